using System.Net.WebSockets;
using System.Net;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Sessions;

namespace Broker.WebSockets;

/// <summary>
/// One browser socket (PROTOCOL.md, "WebSocket transport"): a reader loop that parses and answers
/// frames, a writer loop that drains the replies and every subscription's queue into coalesced
/// messages, and a close that is requested once, sent by the writer, and time-boxed.
/// </summary>
/// <remarks>
/// Threads: the reader loop owns the subscription table and the request handling; the writer loop owns
/// the socket's send side and the delivery cursors; fan-out (publisher threads) and timers only queue
/// and signal. Partial files: <c>.Read</c> (reader loop), <c>.Requests</c> (frame handlers),
/// <c>.Write</c> (writer loop).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "RunAsync owns the connection's whole life and disposes what it owns on the way out.")]
public sealed partial class WebSocketConnection : ISubscriberQueueListener
{
    /// <summary>
    /// Replies waiting to be written before the client is judged not to be reading them: requests are
    /// rate-limited, so a thousand unread replies means the client stopped reading for seconds.
    /// </summary>
    private const int MaxPendingReplies = 1024;

    /// <summary>How long the closing handshake may take after our close frame before the socket is aborted.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly WebSocketServices _services;
    private readonly WebSocketTransportOptions _options;
    private readonly BrokerSession? _cookieSession;
    private readonly IPAddress? _remoteIp;
    private readonly WakeSignal _wake = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly WebSocketWriter _writer;
    private CloseRequest? _close;
    private DropReason _dropReason = DropReason.Closed;
    private ClientInfo? _client;
    private ITimer? _helloTimer;
    private ITimer? _pingTimer;
    private ITimer? _pongTimer;
    private ITimer? _abortTimer;
    private readonly Lock _pingGate = new();
    private long _lastReceived;
    private long _unansweredPing;

    internal WebSocketConnection(WebSocket socket, WebSocketServices services, BrokerSession? cookieSession, IPAddress? remoteIp)
    {
        _socket = socket;
        _services = services;
        _options = services.Options;
        _cookieSession = cookieSession;
        _remoteIp = remoteIp;
        ConnectionId = SessionIdentifiers.NewSessionId();
        _lastReceived = services.Time.GetTimestamp();
        _writer = new WebSocketWriter(socket, _options.WriteTimeout, metrics: services.Metrics);
    }

    /// <summary>The connection's id (<c>welcome.connectionId</c>).</summary>
    public string ConnectionId { get; }

    /// <summary>Bytes queued in this socket's subscriptions and not yet written.</summary>
    public long PendingBytes => _writer.PendingBytes;

    /// <summary>Who the socket belongs to, once it said hello.</summary>
    public ClientInfo? Client => Volatile.Read(ref _client);

    /// <summary>Runs the socket until it closes: the reader loop here, the writer loop beside it.</summary>
    internal async Task RunAsync()
    {
        _helloTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!).OnHelloTimeout(), this, _options.HelloTimeout, Timeout.InfiniteTimeSpan);
        var writer = WriteLoopAsync();
        // Per connection, not per message: the drain closes every socket, said hello or not.
        var drain = _services.Drain.Token.UnsafeRegister(static s => ((WebSocketConnection)s!).OnDrain(), this);
        try
        {
            await ReadLoopAsync();
        }
        catch (Exception exception)
        {
            WebSocketLog.ConnectionFault(_services.Logger, ConnectionId, exception);
            RequestClose(WebSocketCloseCodes.InternalError, "internal error");
        }
        finally
        {
            RequestClose(WebSocketCloseCodes.Normal, "closed");
            try
            {
                // The writer sends the close frame (or finds the socket gone) and ends; a write that
                // blocks ends at the write timeout, so this wait is bounded too.
                await writer.WaitAsync(_options.WriteTimeout + CloseHandshakeTimeout);
            }
            catch (TimeoutException)
            {
                _socket.Abort();
            }

            await drain.DisposeAsync();
            await CleanUpAsync();
        }
    }

    /// <summary>The broker is draining: <c>disconnect</c> (reconnect elsewhere) and close 1001; what is still queued counts as a shutdown drop.</summary>
    private void OnDrain()
    {
        _dropReason = DropReason.Shutdown;
        CloseWithDisconnect(WebSocketCloseCodes.GoingAway, "server shutting down", reconnect: true);
    }

    /// <summary>Fan-out queued a message for one of this socket's subscriptions: wake the writer.</summary>
    void ISubscriberQueueListener.OnQueued(SubscriberQueue queue) => _wake.Signal();

    /// <summary>A <c>Disconnect</c>-policy queue overflowed: close as a slow consumer (4001).</summary>
    void ISubscriberQueueListener.OnOverflow(SubscriberQueue queue)
    {
        _dropReason = DropReason.SlowConsumer;
        WebSocketLog.SlowConsumer(_services.Logger, ConnectionId, "a subscription queue overflowed");
        CloseWithDisconnect(WebSocketCloseCodes.SlowConsumer, "slow consumer", reconnect: true);
    }

    /// <summary>
    /// Sends <c>disconnect</c> then closes with <paramref name="code"/> (4001, 4002, 4003, or 1001 when
    /// draining). False when the socket was already closing: someone else closed it.
    /// </summary>
    internal bool CloseWithDisconnect(int code, string reason, bool reconnect) =>
        RequestClose(code, reason, ServerFrames.Disconnect(code, reason, reconnect));

    /// <summary>Asks the writer to close the socket; the first request wins (true). Replies already queued go first.</summary>
    private bool RequestClose(int code, string reason, byte[]? finalFrame = null)
    {
        if (Interlocked.CompareExchange(ref _close, new CloseRequest(code, reason, finalFrame), null) is not null)
        {
            return false;
        }

        WebSocketLog.Closed(_services.Logger, ConnectionId, code, reason);
        _services.Metrics.RecordClose(code);
        _wake.Signal();
        return true;
    }

    /// <summary>A protocol violation: an optional error frame, then close.</summary>
    private void Violation(int code, string reason, byte[]? errorFrame = null)
    {
        WebSocketLog.ProtocolViolation(_services.Logger, ConnectionId, code, reason);
        if (errorFrame is not null)
        {
            EnqueueReply(errorFrame);
        }

        RequestClose(code, reason);
    }

    /// <summary>The socket is gone or stuck: stop without a closing handshake.</summary>
    private void Abort()
    {
        Interlocked.CompareExchange(ref _close, new CloseRequest(WebSocketCloseCodes.InternalError, "aborted", null, Aborted: true), null);
        _socket.Abort();
        _wake.Signal();
    }

    private void EnqueueReply(byte[] frame)
    {
        if (_writer.EnqueueReply(frame, counted: true) > MaxPendingReplies)
        {
            RequestClose(WebSocketCloseCodes.Policy, "the client is not reading its replies");
        }

        _wake.Signal();
    }

    /// <summary>
    /// Queues a replayed publication among the replies, so it sits right behind its <c>subscribed</c>.
    /// Not counted against <see cref="MaxPendingReplies"/>: a replay is bounded by the namespace's history.
    /// </summary>
    private void EnqueueCatchUp(byte[] frame)
    {
        _writer.EnqueueReply(frame, counted: false);
        _wake.Signal();
    }

    private void OnHelloTimeout()
    {
        if (Client is null)
        {
            Violation(WebSocketCloseCodes.Policy, $"no hello within {_options.HelloTimeout}");
        }
    }

    /// <summary>
    /// Sends a ping. The pong deadline belongs to the oldest ping not yet answered by any frame: a later
    /// ping does not push it back (else a PongTimeout longer than the PingInterval would never fire).
    /// </summary>
    private void OnPingDue()
    {
        lock (_pingGate)
        {
            long now = _services.Time.GetTimestamp();
            if (_unansweredPing == 0 || Volatile.Read(ref _lastReceived) >= _unansweredPing)
            {
                _unansweredPing = now;
                _pongTimer?.Change(_options.PongTimeout, Timeout.InfiniteTimeSpan);
            }
        }

        EnqueueReply(ServerFrames.Ping);
    }

    private void OnPongDue()
    {
        lock (_pingGate)
        {
            // Any frame at all after the ping proves the client alive (PROTOCOL.md), not only a pong.
            if (_unansweredPing == 0 || Volatile.Read(ref _lastReceived) >= _unansweredPing)
            {
                return;
            }

            // Timers may fire a little early: until the ping's full timeout has passed, look again then.
            var waited = _services.Time.GetElapsedTime(_unansweredPing);
            if (waited < _options.PongTimeout)
            {
                _pongTimer?.Change(_options.PongTimeout - waited, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        Violation(WebSocketCloseCodes.Policy, "no frame within the pong timeout of a ping");
    }

    private void StartPings()
    {
        _pongTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!).OnPongDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _pingTimer = _services.Time.CreateTimer(static s => ((WebSocketConnection)s!).OnPingDue(), this, _options.PingInterval, _options.PingInterval);
    }

    private async Task CleanUpAsync()
    {
        await _closing.CancelAsync();
        Interlocked.Exchange(ref _helloTimer, null)?.Dispose();
        _pingTimer?.Dispose();
        _pongTimer?.Dispose();
        _abortTimer?.Dispose();
        _services.Connections.Remove(this);
        foreach (var subscription in _subscriptions.Values)
        {
            await RemoveSubscriptionAsync(subscription, _dropReason);
        }

        _subscriptions.Clear();
        _wake.Stop();
        _closing.Dispose();
    }

    private sealed record CloseRequest(int Code, string Reason, byte[]? FinalFrame, bool Aborted = false);
}
