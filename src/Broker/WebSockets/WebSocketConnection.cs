using System.Net.WebSockets;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Sessions;
using Broker.WebSockets.Internal;

namespace Broker.WebSockets;

/// <summary>
/// The socket half of one browser connection (PROTOCOL.md, "WebSocket transport"): a reader loop that
/// splits messages into frames for the <see cref="ClientSession"/>, a writer loop that drains the
/// replies and every subscription's feed into coalesced messages, liveness (hello timeout, ping/pong),
/// and a close that is requested once, sent by the writer, and time-boxed.
/// </summary>
/// <remarks>
/// Threads: the reader loop owns the session (hello, dispatch, subscription table); the writer loop owns
/// the socket's send side and reads the feeds; fan-out (publisher threads) and timers only queue and
/// signal. Partial files: <c>.Read</c> (reader loop), <c>.Write</c> (writer loop), <c>.Liveness</c>
/// (hello timeout, pings).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "RunAsync owns the connection's whole life and disposes what it owns on the way out.")]
public sealed partial class WebSocketConnection : ISubscriberQueueListener, IClientConnection
{
    /// <summary>
    /// Replies waiting to be written at which the reader stops reading the client's frames until the writer has
    /// written half of them: a message may carry thousands of frames (a 128 KiB message of <c>{}</c> lines is
    /// 40,000 of them), each owed an answer, and backpressure answers every one with bounded memory where a close
    /// would punish a client that reads (found by the fuzz, seed 1).
    /// </summary>
    private const int ReaderPauseReplies = 1024;

    /// <summary>
    /// Replies waiting to be written before the client is judged not to be reading them (close 1008). Above
    /// <see cref="ReaderPauseReplies"/>: only replies the reader does not hold back (handler replies, pings) get
    /// here, and only when the client stopped reading for long.
    /// </summary>
    private const int MaxPendingReplies = 4 * ReaderPauseReplies;

    /// <summary>How long the closing handshake may take after our close frame before the socket is aborted.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly WebSocketServices _services;
    private readonly WebSocketTransportOptions _options;
    private readonly ClientSession _session;
    private readonly WakeSignal _wake = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly WebSocketWriter _writer;
    private CloseRequest? _close;
    private DropReason _dropReason = DropReason.Closed;
    private ClientInfo? _client;
    private ITimer? _abortTimer;
    private TaskCompletionSource? _repliesWritten;

    internal WebSocketConnection(WebSocket socket, IHttpRequestLifetimeFeature request, WebSocketServices services, HttpContext? cookieRequest, IPAddress? remoteIp)
    {
        _socket = socket;
        _services = services;
        _options = services.Options;
        ConnectionId = SessionIdentifiers.NewSessionId();
        _lastReceived = services.Time.GetTimestamp();
        _writer = new WebSocketWriter(socket, request, _options.WriteTimeout, metrics: services.Metrics);
        _session = new ClientSession(this, services, cookieRequest, remoteIp);
    }

    /// <summary>The connection's id (<c>welcome.connectionId</c>).</summary>
    public string ConnectionId { get; }

    /// <summary>Bytes queued in this socket's subscriptions and not yet written.</summary>
    public long PendingBytes => _writer.PendingBytes;

    /// <summary>Who the socket belongs to, once it said hello.</summary>
    public ClientInfo? Client => Volatile.Read(ref _client);

    ClientInfo IClientConnection.Client => Client!;

    /// <inheritdoc/>
    public string Transport => "websocket";

    /// <summary>Cancelled when the socket is gone: requests in flight die with it.</summary>
    internal CancellationToken Closing => _closing.Token;

    /// <summary>Runs the socket until it closes: the reader loop here, the writer loop beside it.</summary>
    internal async Task RunAsync()
    {
        StartHelloTimer();
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

    /// <summary>A backend's <c>Disconnect</c>: <c>disconnect</c> with its reason, then close 4002.</summary>
    public bool Disconnect(string reason, bool reconnect) =>
        CloseWithDisconnect(WebSocketCloseCodes.DisconnectedByBackend, reason, reconnect);

    /// <summary>The session expired: <c>disconnect</c> (no reconnect: the page needs a new session first), then close 4003.</summary>
    public bool EndSession(string reason) =>
        CloseWithDisconnect(WebSocketCloseCodes.SessionEnded, reason, reconnect: false);

    /// <summary>The session said hello and is bound: from now on the socket is one of the broker's connections.</summary>
    internal void Bound(ClientInfo client)
    {
        Volatile.Write(ref _client, client);
        _services.Connections.Add(this);
        WebSocketLog.Connected(_services.Logger, ConnectionId, client.SessionId, client.UserId);
    }

    /// <summary>
    /// Writes a new subscription's start (its <c>subscribed</c>, with <paramref name="id"/>, unless it is
    /// personal, and its replay) among the replies, right behind what was queued before, then lets the
    /// writer drain it. Called on the reader loop, before the writer can see the feed.
    /// </summary>
    internal void StartFeed(SubscriptionFeed feed, long? id)
    {
        var room = new StartItems();
        Span<FeedItem> items = room;
        while (!feed.Started)
        {
            int count = feed.Read(items, long.MaxValue);
            for (int i = 0; i < count; i++)
            {
                var item = items[i];
                if (item.Kind == FeedItemKind.Subscribed)
                {
                    if (!item.Start.Personal)
                    {
                        EnqueueReply(ServerFrames.Subscribed(id, item.Start.Channel, item.Start.Position!.Value, item.Start.Recovered));
                    }
                }
                else
                {
                    // A replayed publication is not counted against MaxPendingReplies: history bounds it.
                    _writer.EnqueueReply(item.Message!.GetEncoded(JsonFrameFormat.Instance), counted: false);
                }
            }
        }

        _writer.AddActive(feed);
        _wake.Signal();
    }

    /// <summary>Stops draining a feed (its subscription is ending).</summary>
    internal void StopFeed(SubscriptionFeed feed) => _writer.RemoveActive(feed);

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

    /// <summary>A protocol violation: an optional error frame, then close.</summary>
    internal void Violation(int code, string reason, byte[]? errorFrame = null)
    {
        // Once a minute with a count: a client can break the protocol on thousands of sockets (hello timeouts).
        if (_services.Gates.Violations.TryPass(out var count))
        {
            WebSocketLog.ProtocolViolation(_services.Logger, ConnectionId, code, reason, count);
        }

        CloseWithError(code, reason, errorFrame);
    }

    /// <summary>Ends the socket for a cause that is not the client's (nothing logged here): an optional error frame, then close.</summary>
    internal void CloseWithError(int code, string reason, byte[]? errorFrame)
    {
        if (errorFrame is not null)
        {
            EnqueueReply(errorFrame);
        }

        RequestClose(code, reason);
    }

    /// <summary>Queues a reply; a client that leaves a thousand unread is closed (1008).</summary>
    internal void EnqueueReply(byte[] frame)
    {
        if (_writer.EnqueueReply(frame, counted: true) > MaxPendingReplies)
        {
            RequestClose(WebSocketCloseCodes.Policy, "the client is not reading its replies");
        }

        _wake.Signal();
    }

    /// <summary>
    /// The reader's backpressure: waits, before the next frame, while <see cref="ReaderPauseReplies"/> replies are
    /// waiting, until the writer has written half of them or the socket is closing.
    /// </summary>
    internal ValueTask WaitForRepliesAsync()
    {
        if (_writer.PendingReplies < ReaderPauseReplies)
        {
            return ValueTask.CompletedTask;
        }

        // Made only when the reader must wait (a burst of thousands of frames), never per frame.
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _repliesWritten, waiter);
        // The writer may have drained, or a close come, before the waiter was visible: look again.
        if (_writer.PendingReplies <= ReaderPauseReplies / 2 || Volatile.Read(ref _close) is not null)
        {
            ResumeReader();
        }

        _wake.Signal();
        return new ValueTask(waiter.Task);
    }

    /// <summary>Lets a waiting reader go on (the writer drained its replies, or the socket is closing).</summary>
    private void ResumeReader() => Interlocked.Exchange(ref _repliesWritten, null)?.TrySetResult();

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
        ResumeReader();
        return true;
    }

    /// <summary>The socket is gone or stuck: stop without a closing handshake.</summary>
    private void Abort()
    {
        Interlocked.CompareExchange(ref _close, new CloseRequest(WebSocketCloseCodes.InternalError, "aborted", null, Aborted: true), null);
        _socket.Abort();
        _wake.Signal();
        ResumeReader();
    }

    private async Task CleanUpAsync()
    {
        // The request ends after this: a write deadline that passes later (a writer the wait above gave up
        // on) must not abort a request that is gone.
        _writer.DetachConnection();
        await _closing.CancelAsync();
        StopTimers();
        _abortTimer?.Dispose();
        _services.Connections.Remove(this);
        await _session.CloseAsync(_dropReason);
        _wake.Stop();
        _closing.Dispose();
    }

    /// <summary>Room for a feed's start, read a few items at a time.</summary>
    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct StartItems
    {
        private FeedItem _first;
    }

    private sealed record CloseRequest(int Code, string Reason, byte[]? FinalFrame, bool Aborted = false);
}
