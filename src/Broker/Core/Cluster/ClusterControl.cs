using System.Collections.Concurrent;
using System.Text.Json;
using Broker.Core.Handlers;
using Broker.Diagnostics;
using Broker.Engines;

namespace Broker.Core.Cluster;

/// <summary>
/// The core's side of the engine's node-to-node control path (<see cref="IEngine.SendControlAsync"/>):
/// a <c>Disconnect</c> that reaches every node and counts what each ended, and the handler tables that let
/// a <c>send</c> on one node reach a handler registered on another (see <see cref="HandlerRegistry"/>).
/// With one node (the in-memory engine) there is nobody to ask and everything stays local.
/// </summary>
/// <remarks>
/// <para><b>Bounded waits.</b> A request to another node waits at most <see cref="ReplyTimeout"/> for its
/// answer; a node that does not answer in time is left out of the result (counted in
/// <c>broker.cluster.unanswered</c> and logged), because a backend waiting on a dead or stalled node is
/// worse than an answer that says what the live nodes did.</para>
/// <para><b>Who is alive.</b> Every <see cref="WatchInterval"/> the control asks the engine for the live
/// nodes: handlers of a node that is gone leave this node's table (their calls in flight go to another
/// handler of the group once), and a node not yet heard from is asked for its table.</para>
/// </remarks>
public sealed class ClusterControl : IAsyncDisposable, IHandlerCluster
{
    /// <summary>How long a node's answer is waited for: 2 s, the Redis engine's default operation timeout, so
    /// a healthy node on a busy machine answers well within it and a dead one costs the caller no more.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How often the live nodes are looked at: 1 s bounds how long a call stays with a killed node
    /// before it goes to another handler, at one small Redis round trip per second per node.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    private readonly IEngine _engine;
    private readonly ConnectionRegistry _connections;
    private readonly HandlerRegistry _handlers;
    private readonly ILogger _logger;
    private readonly BrokerMetrics? _metrics;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<ControlMessage>> _pending = new();
    // Never disposed: it has no timer, and fire-and-forget sends (a handler's stream ending at shutdown)
    // may still read its token after the control stopped.
    private readonly CancellationTokenSource _stopping = new();
    private long _nextId;
    private Task? _watch;

    /// <summary>Creates the control and connects it to the hub's engine and the handler registry.</summary>
    public ClusterControl(Hub hub, ConnectionRegistry connections, HandlerRegistry handlers, ILogger<ClusterControl> logger, BrokerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(handlers);
        _engine = hub.Engine;
        _connections = connections;
        _handlers = handlers;
        _logger = logger;
        _metrics = metrics;
        hub.ControlHandler = OnControl;
        handlers.Attach(this);
    }

    /// <summary>This node's id in the cluster.</summary>
    public string NodeId => _engine.NodeId;

    /// <summary>
    /// <c>Disconnect</c> across the cluster: ends the matching connections here and asks every other live
    /// node to do the same, then counts them all (a node that does not answer within
    /// <see cref="ReplyTimeout"/> is not counted). <c>unavailable</c> when the engine cannot say which
    /// nodes are alive; nothing is ended then.
    /// </summary>
    public async ValueTask<Result<int>> DisconnectAsync(string? sessionId, string? userId, string reason, bool reconnect, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> nodes;
        try
        {
            nodes = await _engine.GetNodesAsync(cancellationToken);
        }
        catch (EngineUnavailableException)
        {
            _metrics?.RecordEngineUnavailable("disconnect");
            return BrokerError.EngineUnavailable;
        }

        var self = _engine.NodeId;
        List<Task<ControlMessage?>>? asks = null;
        foreach (var node in nodes)
        {
            if (!string.Equals(node, self, StringComparison.Ordinal))
            {
                var request = new ControlMessage { Type = "disconnect", SessionId = sessionId, UserId = userId, Reason = reason, Reconnect = reconnect };
                (asks ??= []).Add(RequestAsync(node, request, "disconnect", cancellationToken));
            }
        }

        int count = _connections.Disconnect(sessionId, userId, reason, reconnect);
        if (asks is not null)
        {
            foreach (var answer in await Task.WhenAll(asks))
            {
                count += answer?.Count ?? 0;
            }
        }

        return count;
    }

    /// <summary>Starts watching the live nodes (after the engine started).</summary>
    internal void Start() => _watch ??= Task.Run(WatchAsync, CancellationToken.None);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_watch is { } watch)
        {
            await watch;
        }
    }

    /// <summary>
    /// Sends this node's handler table to every other live node and waits (at most <see cref="ReplyTimeout"/>)
    /// until each has taken it: once this completes, a <c>send</c> on any live node can reach the handlers.
    /// </summary>
    /// <inheritdoc cref="IHandlerCluster.AnnounceHandlersAsync"/>
    internal async Task AnnounceHandlersAsync()
    {
        IReadOnlyList<string> nodes;
        try
        {
            nodes = await _engine.GetNodesAsync(_stopping.Token);
        }
        catch (Exception e) when (e is EngineUnavailableException or OperationCanceledException)
        {
            return;  // the watch loop's sync brings every node up to date when the engine is back
        }

        var table = _handlers.LocalTable();
        var asks = new List<Task<ControlMessage?>>(nodes.Count);
        foreach (var node in nodes)
        {
            if (!string.Equals(node, _engine.NodeId, StringComparison.Ordinal))
            {
                asks.Add(RequestAsync(node, new ControlMessage { Type = "handlers", Version = table.Version, Handlers = table.Handlers }, "handlers", _stopping.Token));
            }
        }

        await Task.WhenAll(asks);
    }

    /// <inheritdoc/>
    Task IHandlerCluster.AnnounceHandlersAsync() => AnnounceHandlersAsync();

    /// <summary>Sends a message without waiting for an answer; false when the node is gone or the engine unreachable.</summary>
    private async Task<bool> SendAsync(string node, ControlMessage message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, ControlJsonContext.Default.ControlMessage);
        try
        {
            return await _engine.SendControlAsync(node, bytes, cancellationToken);
        }
        catch (Exception e) when (e is EngineUnavailableException or OperationCanceledException)
        {
            ClusterLog.SendFailed(_logger, node, e);
            return false;
        }
    }

    /// <summary>Sends a request and waits for its <c>reply</c>: null when the node is gone or did not answer in time.</summary>
    private async Task<ControlMessage?> RequestAsync(string node, ControlMessage message, string operation, CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _nextId);
        message.Id = id;
        var reply = new TaskCompletionSource<ControlMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            if (!await SendAsync(node, message, cancellationToken))
            {
                return null;  // gone since the engine listed it: it holds nothing to count
            }

            return await reply.Task.WaitAsync(ReplyTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            _metrics?.RecordNodeUnanswered(operation);
            ClusterLog.NodeUnanswered(_logger, node, operation);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken == _stopping.Token)
        {
            return null;  // stopping: an announcement nobody waits for any more
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private void Reply(string node, ControlMessage message) => _ = SendAsync(node, message, _stopping.Token);

    /// <summary>Every message another node sent this one. Runs on the engine's delivery thread: nothing here waits.</summary>
    private void OnControl(string from, ReadOnlyMemory<byte> bytes)
    {
        ControlMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(bytes.Span, ControlJsonContext.Default.ControlMessage);
        }
        catch (JsonException e)
        {
            ClusterLog.Malformed(_logger, from, e);
            return;
        }

        try
        {
            Dispatch(from, message);
        }
        catch (Exception e)
        {
            // One bad message must not stop the node's control path (the engine's delivery loop runs this).
            ClusterLog.ControlFailed(_logger, from, message?.Type, e);
        }
    }

    private void Dispatch(string from, ControlMessage? message)
    {
        switch (message?.Type)
        {
            case "reply":
                if (_pending.TryGetValue(message.Id, out var waiting))
                {
                    waiting.TrySetResult(message);
                }

                break;
            case "disconnect":
                int count = _connections.Disconnect(message.SessionId, message.UserId, message.Reason ?? string.Empty, message.Reconnect);
                Reply(from, new ControlMessage { Type = "reply", Id = message.Id, Count = count });
                break;
            case "handlers":
                _handlers.ApplyRemoteTable(from, message.Version, message.Handlers ?? []);
                if (message.Id != 0)
                {
                    Reply(from, new ControlMessage { Type = "reply", Id = message.Id });
                }

                break;
            case "sync":
                var table = _handlers.LocalTable();
                Reply(from, new ControlMessage { Type = "handlers", Version = table.Version, Handlers = table.Handlers });
                break;
            case "call" when message is { HandlerId: { } handlerId, Event: { } eventName }:
                var sender = new ClientInfo(message.SessionId, message.UserId, message.FromConnection);
                var call = new RemoteCall(message.Id, handlerId, eventName, message.Data ?? [], sender, DateTimeOffset.FromUnixTimeMilliseconds(message.DeadlineUnixMs));
                _ = ServeCallAsync(from, call);
                break;
            case "result" when message.HandlerId is { } handlerId:
                _handlers.OnRemoteResult(from, new RemoteResult(message.Id, handlerId, message.Lost, message.Data, message.ErrorCode, message.ErrorMessage));
                break;
            default:
                ClusterLog.Malformed(_logger, from, null);
                break;
        }
    }

    /// <summary>Gives another node's call to the local handler it names, and sends back its outcome.</summary>
    private async Task ServeCallAsync(string from, RemoteCall call)
    {
        if (await _handlers.ServeRemoteCallAsync(call) is { } outcome)
        {
            Reply(from, new ControlMessage
            {
                Type = "result",
                Id = outcome.Id,
                HandlerId = outcome.HandlerId,
                Lost = outcome.Lost,
                Data = outcome.Data,
                ErrorCode = outcome.ErrorCode,
                ErrorMessage = outcome.ErrorMessage,
            });
        }
    }

    /// <inheritdoc/>
    Task<bool> IHandlerCluster.SendCallAsync(string node, RemoteCall call) => SendAsync(node, new ControlMessage
    {
        Type = "call",
        Id = call.Id,
        HandlerId = call.HandlerId,
        Event = call.Event,
        Data = call.Data,
        SessionId = call.From.SessionId,
        UserId = call.From.UserId,
        FromConnection = call.From.ConnectionId,
        DeadlineUnixMs = call.Deadline.ToUnixTimeMilliseconds(),
    }, CancellationToken.None);

    private async Task WatchAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var nodes = await _engine.GetNodesAsync(token);
                foreach (var (node, handlers) in _handlers.DropNodesExcept(nodes))
                {
                    ClusterLog.NodeGone(_logger, node, handlers);
                }

                foreach (var node in nodes)
                {
                    if (!string.Equals(node, _engine.NodeId, StringComparison.Ordinal) && !_handlers.HasTableOf(node))
                    {
                        await SendAsync(node, new ControlMessage { Type = "sync" }, token);
                    }
                }

                await Task.Delay(WatchInterval, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (EngineUnavailableException)
            {
                // Unreachable: nobody is dropped for it; look again later.
                try
                {
                    await Task.Delay(WatchInterval, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
