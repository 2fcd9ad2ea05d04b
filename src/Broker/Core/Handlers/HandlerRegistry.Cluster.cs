namespace Broker.Core.Handlers;

/// <summary>
/// Handlers across nodes. Each node sends its own handlers' table to the others whenever it changes (and
/// to a node that asks); the others keep them as registrations with a <see cref="RemoteHandlerEndpoint"/>.
/// A call routed to a remote handler goes to its node (<see cref="IHandlerCluster.SendCallAsync"/>); that node gives it to the
/// handler and sends back the <see cref="RemoteResult"/>, or <c>lost</c> when the handler's stream ended with it (or
/// was gone). The sending node owns the call: its deadline, and its one redelivery, also when the whole
/// node holding it is gone (<see cref="DropNodesExcept"/>).
/// </summary>
public sealed partial class HandlerRegistry
{
    /// <summary>What a proxied call completes with when its handler went away: the sending node redelivers.</summary>
    private static readonly HandlerReply LostReply = HandlerReply.Error(ErrorCodes.Unavailable, "The handler went away with the call.");

    // node → the version of its table last applied and its handlers (also in _handlers). Under _gate.
    private readonly Dictionary<string, RemoteTable> _remote = new(StringComparer.Ordinal);
    private IHandlerCluster? _cluster;
    private long _tableVersion;

    /// <summary>Connects the registry to the cluster control (once, at start).</summary>
    internal void Attach(IHandlerCluster cluster) => _cluster = cluster;

    /// <summary>This node's own handlers, with a version newer than any table sent before.</summary>
    internal (long Version, List<RemoteHandlerInfo> Handlers) LocalTable()
    {
        lock (_gate)
        {
            var list = new List<RemoteHandlerInfo>();
            foreach (var handler in _handlers)
            {
                if (handler.IsLocal)
                {
                    list.Add(new RemoteHandlerInfo(handler.HandlerId, handler.Group, [.. handler.Events], handler.MaxInFlight, handler.Order));
                }
            }

            return (++_tableVersion, list);
        }
    }

    /// <summary>True once <paramref name="node"/>'s table arrived.</summary>
    internal bool HasTableOf(string node)
    {
        lock (_gate)
        {
            return _remote.ContainsKey(node);
        }
    }

    /// <summary>Replaces what this node knows of <paramref name="node"/>'s handlers, unless <paramref name="version"/> is older than what it has.</summary>
    internal void ApplyRemoteTable(string node, long version, List<RemoteHandlerInfo> handlers)
    {
        lock (_gate)
        {
            if (_remote.TryGetValue(node, out var known) && known.Version >= version)
            {
                return;
            }

            if (known is null)
            {
                _remote[node] = known = new RemoteTable();
            }

            known.Version = version;
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var info in handlers)
            {
                ids.Add(info.Id);
            }

            foreach (var gone in known.Handlers.Values.Where(h => !ids.Contains(h.HandlerId)).ToList())
            {
                known.Handlers.Remove(gone.HandlerId);
                UnregisterLocked(gone);
            }

            foreach (var info in handlers)
            {
                if (!known.Handlers.ContainsKey(info.Id) && info.Events.Length > 0 && info.MaxInFlight > 0)
                {
                    var registration = new HandlerRegistration(info.Id, info.Group, info.Events, info.MaxInFlight, new RemoteHandlerEndpoint(this, node), info.Order, node);
                    known.Handlers.Add(info.Id, registration);
                    _handlers.Add(registration);
                    ServeWaiting(registration.Group);
                }
            }
        }
    }

    /// <summary>
    /// Forgets the handlers of every node not in <paramref name="alive"/>: their calls in flight go to another
    /// handler of the group once. Returns the nodes dropped, with how many handlers each had.
    /// </summary>
    internal List<(string Node, int Handlers)> DropNodesExcept(IReadOnlyList<string> alive)
    {
        var dropped = new List<(string, int)>();
        lock (_gate)
        {
            foreach (var (node, table) in _remote.ToList())
            {
                if (alive.Contains(node, StringComparer.Ordinal))
                {
                    continue;
                }

                _remote.Remove(node);
                foreach (var handler in table.Handlers.Values)
                {
                    UnregisterLocked(handler);
                }

                dropped.Add((node, table.Handlers.Count));
            }
        }

        return dropped;
    }

    /// <summary>Sends a call to the node of its remote handler; a node that is gone gives the call back at once.</summary>
    internal async Task SendRemoteAsync(string node, HandlerRegistration holder, InboundCall call)
    {
        var message = new RemoteCall((long)call.Id, holder.HandlerId, call.Event, call.Data.ToArray(), call.From, call.Deadline);
        if (_cluster is not { } cluster || !await cluster.SendCallAsync(node, message))
        {
            lock (_gate)
            {
                TakeBackLocked(holder, call.Id);
            }
        }
    }

    /// <summary>Another node's answer to a call sent to one of its handlers.</summary>
    internal void OnRemoteResult(string node, RemoteResult result)
    {
        lock (_gate)
        {
            if (!_remote.TryGetValue(node, out var table) || !table.Handlers.TryGetValue(result.HandlerId, out var holder))
            {
                return;  // the handler left this node's table: its calls were handed on already
            }

            if (result.Lost)
            {
                // The handler is gone on its node (its table update may still be on its way): stop routing
                // to it now, and hand on every call it held, this one included, to another handler once.
                table.Handlers.Remove(holder.HandlerId);
                UnregisterLocked(holder);
                return;
            }

            if (holder.InFlight.Remove((ulong)result.Id, out var call))
            {
                call.Holder = null;
                call.TryComplete(result.ErrorCode is { } code ? HandlerReply.Error(code, result.ErrorMessage ?? code) : new HandlerReply(result.Data ?? []));
                ServeWaiting(holder.Group);
            }
        }
    }

    /// <summary>
    /// Serves a call another node sent for one of this node's handlers, until its reply or its deadline.
    /// Returns the <c>result</c> to send back, or null when the deadline passed (the sender timed out itself).
    /// </summary>
    internal async Task<RemoteResult?> ServeRemoteCallAsync(RemoteCall message)
    {
        var lost = new RemoteResult(message.Id, message.HandlerId, Lost: true);
        InboundCall call;
        lock (_gate)
        {
            var handler = _handlers.Find(h => h.IsLocal && string.Equals(h.HandlerId, message.HandlerId, StringComparison.Ordinal));
            if (handler is null)
            {
                return lost;
            }

            call = new InboundCall((ulong)Interlocked.Increment(ref _nextCallId), message.Event, message.Data, message.From, message.Deadline)
            {
                Proxied = true,
                Group = handler.Group,
            };

            // The sending node counted this call against the handler's max_in_flight; here it is simply held.
            handler.InFlight[call.Id] = call;
            call.Holder = handler;
            if (!handler.Endpoint.TryDeliver(call))
            {
                handler.InFlight.Remove(call.Id);
                return lost;
            }
        }

        var left = message.Deadline - _time.GetUtcNow();
        HandlerReply reply;
        try
        {
            reply = await call.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time);
        }
        catch (TimeoutException)
        {
            Abandon(call);
            return null;
        }

        return ReferenceEquals(reply, LostReply)
            ? lost
            : new RemoteResult(message.Id, message.HandlerId, Lost: false, reply.IsError ? null : reply.Data.ToArray(), reply.ErrorCode, reply.ErrorMessage);
    }

    /// <summary>A remote handler no longer holds <paramref name="callId"/> (its stream ended, or its node is gone): hand the call on. Caller holds the lock.</summary>
    private void TakeBackLocked(HandlerRegistration holder, ulong callId)
    {
        if (holder.InFlight.Remove(callId, out var call))
        {
            call.Holder = null;
            Redeliver(call);
            ServeWaiting(holder.Group);
        }
    }

    /// <summary>Tells the other nodes this node's handlers changed, without waiting.</summary>
    private void AnnounceLater()
    {
        if (_cluster is { } cluster)
        {
            _ = cluster.AnnounceHandlersAsync();
        }
    }

    /// <summary>What this node knows of one other node's handlers.</summary>
    private sealed class RemoteTable
    {
        public long Version;
        public readonly Dictionary<string, HandlerRegistration> Handlers = new(StringComparer.Ordinal);
    }
}
