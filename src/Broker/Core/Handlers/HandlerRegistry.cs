using Broker.Diagnostics;
using Broker.Engines;
using Microsoft.Extensions.Options;

namespace Broker.Core.Handlers;

/// <summary>
/// The handlers that answer browser <c>send</c> frames (PROTOCOL.md, gRPC <c>Handle</c>), and the
/// routing of each call to exactly one of them.
/// </summary>
/// <remarks>
/// <para><b>Which group.</b> Handlers register in groups for event names or prefixes (<c>chat.*</c>).
/// A call goes to the group that matches its event most specifically (an exact name beats a prefix, a
/// longer prefix a shorter one; a tie goes to the group registered first), and to one handler in it:
/// the one with the fewest calls in flight, under its <c>max_in_flight</c>. When every handler of the
/// group is at its limit the call waits, in order, until one answers or the deadline passes.</para>
/// <para><b>Failures.</b> No matching handler: <c>unavailable</c>. No reply by the deadline
/// (<see cref="HandlerOptions.Timeout"/>): <c>timeout</c>, and a late reply is ignored. When a
/// handler's stream ends with calls in flight, each goes once to another handler of its group, or fails
/// <c>unavailable</c>.</para>
/// <para><b>Across nodes.</b> Other nodes' handlers are here too, as registrations whose endpoint is
/// that node (partial file <c>.Cluster</c>): the group is chosen among every node's handlers with the same
/// rules, and inside the group a local handler with room goes first (no hop), then the least busy
/// remote one. <c>max_in_flight</c> is counted by each sending node.</para>
/// <para>One lock guards the routing state: sends are rate-limited per connection and far rarer than
/// publications, and a decision is a few dictionary operations.</para>
/// </remarks>
public sealed partial class HandlerRegistry
{
    private readonly BrokerMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly List<HandlerRegistration> _handlers = [];
    private readonly Dictionary<string, Queue<InboundCall>> _waiting = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly int _defaultMaxInFlight;
    private long _nextCallId;
    private long _nextOrder;

    /// <summary>Creates the registry.</summary>
    public HandlerRegistry(IOptions<HandlerOptions> options, TimeProvider time, BrokerMetrics? metrics = null)
    {
        _metrics = metrics;
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _timeout = options.Value.Timeout;
        _defaultMaxInFlight = options.Value.DefaultMaxInFlight;
    }

    /// <summary>Live handlers whose streams are on this node (other nodes' handlers it knows are not counted).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                int count = 0;
                foreach (var handler in _handlers)
                {
                    count += handler.IsLocal ? 1 : 0;
                }

                return count;
            }
        }
    }

    /// <summary>
    /// Registers a handler of <paramref name="group"/> for <paramref name="events"/> (names or prefixes
    /// ending in <c>*</c>); <paramref name="maxInFlight"/> 0 takes the default. Throws
    /// <see cref="ArgumentException"/> for an empty group, no events or a bad event pattern.
    /// </summary>
    public HandlerRegistration Register(string group, IReadOnlyList<string> events, int maxInFlight, IHandlerEndpoint endpoint)
    {
        var registration = RegisterLocal(group, events, maxInFlight, endpoint);
        AnnounceLater();
        return registration;
    }

    /// <summary>
    /// <see cref="Register"/>, completing once every other live node knows the handler (at most
    /// a bounded wait per node, 2 s): from then on a <c>send</c> on any node can
    /// reach it. What a transport awaits before it answers <c>Registered</c>.
    /// </summary>
    public async ValueTask<HandlerRegistration> RegisterAsync(string group, IReadOnlyList<string> events, int maxInFlight, IHandlerEndpoint endpoint)
    {
        var registration = RegisterLocal(group, events, maxInFlight, endpoint);
        if (_cluster is { } cluster)
        {
            await cluster.AnnounceHandlersAsync();
        }

        return registration;
    }

    private HandlerRegistration RegisterLocal(string group, IReadOnlyList<string> events, int maxInFlight, IHandlerEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (string.IsNullOrEmpty(group))
        {
            throw new ArgumentException("A handler needs a group.", nameof(group));
        }

        if (events.Count == 0)
        {
            throw new ArgumentException("A handler needs at least one event.", nameof(events));
        }

        foreach (var entry in events)
        {
            var name = entry.EndsWith('*') ? entry.AsSpan(0, entry.Length - 1) : entry.AsSpan();
            // A lone '*' takes every event; otherwise the part before '*' must be event characters.
            if (!(entry == "*" || ChannelNames.IsValidEvent(name)))
            {
                throw new ArgumentException($"'{entry}' is not an event name or a prefix ending in '*'.", nameof(events));
            }
        }

        ArgumentOutOfRangeException.ThrowIfNegative(maxInFlight);
        lock (_gate)
        {
            var registration = new HandlerRegistration(
                Guid.NewGuid().ToString("N"), group, events, maxInFlight == 0 ? _defaultMaxInFlight : maxInFlight, endpoint, NextOrder());
            _handlers.Add(registration);
            ServeWaiting(group);
            return registration;
        }
    }

    /// <summary>
    /// Removes a handler whose stream ended. Each call it held goes once to another handler of its
    /// group, or fails <c>unavailable</c>. Safe to call twice.
    /// </summary>
    public void Unregister(HandlerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        lock (_gate)
        {
            UnregisterLocked(registration);
        }

        // Also when it was gone already (Assign drops an endpoint that is closing): the other nodes may
        // still list it until they get this node's table again.
        AnnounceLater();
    }

    /// <summary>Removes a handler and hands on its calls (see <see cref="Unregister"/>); false when it was not registered. Caller holds the lock.</summary>
    private bool UnregisterLocked(HandlerRegistration registration)
    {
        if (!_handlers.Remove(registration))
        {
            return false;
        }

        var orphans = new List<InboundCall>(registration.InFlight.Values);
        registration.InFlight.Clear();
        orphans.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        foreach (var call in orphans)
        {
            call.Holder = null;
            Redeliver(call);
        }

        if (!HasHandler(registration.Group) && _waiting.Remove(registration.Group, out var waiting))
        {
            foreach (var call in waiting)
            {
                call.TryComplete(HandlerReply.Error(ErrorCodes.Unavailable, "No handler is left for this event."));
            }
        }

        return true;
    }

    /// <summary>
    /// A call whose handler went away with it: once to another handler of its group, else <c>unavailable</c>.
    /// Another node's call is handed back to that node instead, which owns its one redelivery. Caller holds the lock.
    /// </summary>
    private void Redeliver(InboundCall call)
    {
        if (call.Proxied)
        {
            call.TryComplete(LostReply);
            return;
        }

        if (call.Redelivered)
        {
            call.TryComplete(HandlerReply.Error(ErrorCodes.Unavailable, "The handler went away twice."));
            return;
        }

        call.Redelivered = true;
        if (!HasHandler(call.Group!))
        {
            call.TryComplete(HandlerReply.Error(ErrorCodes.Unavailable, "The handler went away and no other handler of its group is left."));
            return;
        }

        _metrics?.RecordHandlerRedelivery();
        Assign(call, call.Group!);
    }

    /// <summary>
    /// Sends a browser's <c>send</c> to a handler and waits for its reply, at most the configured
    /// timeout. Never throws for routing failures: they come back as error replies.
    /// </summary>
    public async Task<HandlerReply> SendAsync(string @event, ReadOnlyMemory<byte> data, ClientInfo from, CancellationToken cancellationToken)
    {
        var call = new InboundCall((ulong)Interlocked.Increment(ref _nextCallId), @event, data, from, _time.GetUtcNow() + _timeout);
        lock (_gate)
        {
            var group = ChooseGroup(@event);
            if (group is null)
            {
                return HandlerReply.Error(ErrorCodes.Unavailable, $"No handler is registered for '{@event}'.");
            }

            call.Group = group;
            Assign(call, group);
        }

        long started = _time.GetTimestamp();
        try
        {
            var reply = await call.Task.WaitAsync(_timeout, _time, cancellationToken);
            _metrics?.RecordHandlerCall(_time.GetElapsedTime(started), timedOut: false);
            return reply;
        }
        catch (TimeoutException)
        {
            Abandon(call);
            _metrics?.RecordHandlerCall(_time.GetElapsedTime(started), timedOut: true);
            return HandlerReply.Error(ErrorCodes.Timeout, "The handler did not reply in time.");
        }
        catch (OperationCanceledException)
        {
            Abandon(call);
            throw;
        }
    }

    /// <summary>
    /// A handler's reply to call <paramref name="inboundId"/>. False when the handler does not hold that
    /// call (answered already, timed out, or never given to it): the reply is then ignored, and counted
    /// (<c>broker.handler.replies.ignored</c>). Not an error for the handler's stream: a reply that crosses its
    /// deadline is a race the handler cannot avoid, and ending the stream would move its other calls for nothing.
    /// </summary>
    public bool Complete(HandlerRegistration registration, ulong inboundId, HandlerReply reply)
    {
        ArgumentNullException.ThrowIfNull(registration);
        lock (_gate)
        {
            if (!registration.InFlight.Remove(inboundId, out var call))
            {
                _metrics?.RecordHandlerReplyIgnored();
                return false;
            }

            call.Holder = null;
            call.TryComplete(reply);
            ServeWaiting(registration.Group);
            return true;
        }
    }

    private void Abandon(InboundCall call)
    {
        lock (_gate)
        {
            call.TryComplete(HandlerReply.Error(ErrorCodes.Timeout, "Abandoned."));
            if (call.Holder is { } holder && holder.InFlight.Remove(call.Id))
            {
                call.Holder = null;
                ServeWaiting(holder.Group);
            }

            // A waiting call stays queued, completed: ServeWaiting skips it.
        }
    }

    /// <summary>The group a new call of <paramref name="eventName"/> goes to, or null. Caller holds the lock.</summary>
    private string? ChooseGroup(string eventName)
    {
        HandlerRegistration? best = null;
        int bestScore = -1;
        foreach (var handler in _handlers)
        {
            int score = handler.Score(eventName);
            if (score > bestScore || (score == bestScore && score >= 0 && handler.Order < best!.Order))
            {
                best = handler;
                bestScore = score;
            }
        }

        return best?.Group;
    }

    /// <summary>Gives <paramref name="call"/> to the least busy free handler of <paramref name="group"/>, or queues it. Caller holds the lock.</summary>
    private void Assign(InboundCall call, string group)
    {
        while (true)
        {
            var handler = LeastBusy(group, call.Event);
            if (handler is null)
            {
                if (!_waiting.TryGetValue(group, out var queue))
                {
                    _waiting[group] = queue = new Queue<InboundCall>();
                }

                queue.Enqueue(call);
                return;
            }

            handler.InFlight[call.Id] = call;
            call.Holder = handler;
            if (handler.Endpoint.TryDeliver(call))
            {
                return;
            }

            // The endpoint is closing: its Unregister will come; route around it now.
            handler.InFlight.Remove(call.Id);
            call.Holder = null;
            _handlers.Remove(handler);
        }
    }

    /// <summary>The handler of the group with room and the fewest calls, a local one before any remote one (no hop between nodes).</summary>
    private HandlerRegistration? LeastBusy(string group, string eventName)
    {
        HandlerRegistration? best = null;
        foreach (var handler in _handlers)
        {
            if (handler.InFlight.Count < handler.MaxInFlight
                && string.Equals(handler.Group, group, StringComparison.Ordinal)
                && handler.Score(eventName) >= 0
                && (best is null || IsBetter(handler, best)))
            {
                best = handler;
            }
        }

        return best;
    }

    private static bool IsBetter(HandlerRegistration handler, HandlerRegistration than) =>
        handler.IsLocal != than.IsLocal ? handler.IsLocal : handler.InFlight.Count < than.InFlight.Count;

    /// <summary>
    /// A registration order comparable across nodes: Unix ms × 1024 plus a local sequence (a tie between
    /// equally specific groups goes to the earliest; nodes' clocks only matter for groups registered
    /// within the same moments on different nodes).
    /// </summary>
    private long NextOrder() => (_time.GetUtcNow().ToUnixTimeMilliseconds() << 10) | (_nextOrder++ & 1023);

    private void ServeWaiting(string group)
    {
        if (!_waiting.TryGetValue(group, out var queue))
        {
            return;
        }

        while (queue.TryPeek(out var call))
        {
            if (call.Task.IsCompleted)
            {
                queue.Dequeue();  // timed out or cancelled while waiting
                continue;
            }

            if (LeastBusy(group, call.Event) is null)
            {
                break;
            }

            queue.Dequeue();
            Assign(call, group);
        }

        if (queue.Count == 0)
        {
            _waiting.Remove(group);
        }
    }

    private bool HasHandler(string group)
    {
        foreach (var handler in _handlers)
        {
            if (string.Equals(handler.Group, group, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
