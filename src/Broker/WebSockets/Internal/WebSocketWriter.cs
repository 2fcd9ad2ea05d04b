using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// The send side of one socket: replies waiting to go out, the subscriptions whose queues it drains,
/// and the batching of what is waiting into coalesced messages (PROTOCOL.md lets the server put several
/// frames, separated by <c>\n</c>, in one message). Only the connection's writer loop calls the
/// <c>Write</c>/<c>Send</c> methods; anyone may queue replies.
/// </summary>
internal sealed class WebSocketWriter : IDisposable
{
    /// <summary>
    /// A coalesced message stops growing past this. 16 KiB still amortises a send over about eighty
    /// typical frames; a larger batch bought no throughput in the load test but held more memory per
    /// busy socket (the batch, the WebSocket's framed copy and Kestrel's pipe each hold a batch while a
    /// send waits). The 14 bytes kept free are the header room the WebSocket rents beside the payload,
    /// so its framed copy fits the array pool's 16 KiB bucket instead of the 32 KiB one.
    /// </summary>
    public const int DefaultBatchBytes = (16 * 1024) - MaxWebSocketHeaderBytes;

    /// <summary>The header room a WebSocket frame may need (RFC 6455 §5.2: 2 bytes, 8 of extended length, 4 of mask), which .NET's WebSocket rents beside each payload.</summary>
    private const int MaxWebSocketHeaderBytes = 14;

    private readonly WebSocket _socket;
    // Volatile: the deadline's timer reads it; the connection clears it when its request ends (DetachConnection).
    private volatile IHttpRequestLifetimeFeature? _connection;
    private readonly TimeSpan _writeTimeout;
    private readonly int _batchBytes;
    // Replies under a lock on the queue itself: a socket queues a few replies in its life, and an
    // unbounded Channel<T> here cost about 1.2 KiB per idle socket (a 32-slot segment and its parts).
    private readonly Queue<OutboundFrame> _replies = new();
    private readonly CancellationTokenSource _writeDeadline = new();
    private readonly Lock _activeGate = new();
    private volatile SubscriptionFeed[] _active = [];
    private readonly BrokerMetrics? _metrics;
    private int _pendingReplies;
    private int _queuedReplies;
    private int _rotation;
    private bool _sampleArmed;

    /// <summary>
    /// Creates the writer; <paramref name="connection"/> is the request the socket was accepted on, whose
    /// <see cref="IHttpRequestLifetimeFeature.Abort"/> ends a send blocked past <paramref name="writeTimeout"/>;
    /// <paramref name="batchBytes"/> 1 turns coalescing off (one frame per message).
    /// </summary>
    public WebSocketWriter(WebSocket socket, IHttpRequestLifetimeFeature connection, TimeSpan writeTimeout, int batchBytes = DefaultBatchBytes, BrokerMetrics? metrics = null)
    {
        _socket = socket;
        _connection = connection;
        _writeTimeout = writeTimeout;
        _batchBytes = batchBytes;
        _metrics = metrics;
    }

    /// <summary>Bytes queued in the active subscriptions (a walk over them: for sampling and stats, not per message).</summary>
    public long PendingBytes
    {
        get
        {
            long bytes = 0;
            foreach (var feed in _active)
            {
                bytes += feed.Queue.PendingBytes;
            }

            return bytes;
        }
    }

    /// <summary>Samples the next batch that carries a publication (fan-out latency, pending bytes); the writer loop arms it once per wake-up.</summary>
    public void ArmSample() => _sampleArmed = _metrics is not null;

    /// <summary>True when the last send ended because it passed the write timeout.</summary>
    public bool TimedOut => _writeDeadline.IsCancellationRequested;

    /// <summary>Replies queued and not yet written that count against the unread-replies limit.</summary>
    public int PendingReplies => Volatile.Read(ref _pendingReplies);

    /// <summary>Queues a reply; a <paramref name="counted"/> one counts toward <see cref="PendingReplies"/>. Returns that count.</summary>
    public int EnqueueReply(byte[] frame, bool counted)
    {
        int pending = counted ? Interlocked.Increment(ref _pendingReplies) : Volatile.Read(ref _pendingReplies);
        lock (_replies)
        {
            _replies.Enqueue(new OutboundFrame(frame, counted));
        }

        // After the enqueue and interlocked (a full fence before the caller's wake-up signal): a writer
        // that reads a non-zero count finds the reply queued.
        Interlocked.Increment(ref _queuedReplies);

        return pending;
    }

    /// <summary>Lets the writer drain <paramref name="feed"/> (whose start its creator already wrote among the replies).</summary>
    public void AddActive(SubscriptionFeed feed)
    {
        lock (_activeGate)
        {
            _active = [.. _active, feed];
        }
    }

    /// <summary>Stops draining <paramref name="feed"/>.</summary>
    public void RemoveActive(SubscriptionFeed feed)
    {
        lock (_activeGate)
        {
            int index = Array.IndexOf(_active, feed);
            if (index >= 0)
            {
                _active = [.. _active[..index], .. _active[(index + 1)..]];
            }
        }
    }

    /// <summary>
    /// Writes one coalesced message of what is waiting: replies first, then (unless
    /// <paramref name="includeSubscriptions"/> is false, as when closing) the subscriptions' queues.
    /// True when the message filled up, so more may be waiting; false when everything waiting was taken.
    /// </summary>
    /// <remarks>
    /// A caller stops at false without looking again: whatever is queued after the queues were read
    /// signals the writer's <see cref="WakeSignal"/> (its flag was cleared before this read), so the
    /// next wait returns at once. That saves a second, empty pass (a lock per subscription) per wake-up.
    /// </remarks>
    public async ValueTask<bool> WriteBatchAsync(bool includeSubscriptions)
    {
        // Read the subscriptions before the replies: a subscription becomes visible here only after its
        // `subscribed` reply was queued, so that reply is always written before the subscription's first
        // publication.
        var subscriptions = _active;
        var batch = default(FrameBatch);
        Publication? first = null;
        try
        {
            while (TryTakeReply(out var reply))
            {
                if (reply.Counted)
                {
                    Interlocked.Decrement(ref _pendingReplies);
                }

                batch.Append(reply.Bytes);
                if (batch.Length >= _batchBytes)
                {
                    await SendAsync(batch.Memory);
                    return true;
                }
            }

            if (includeSubscriptions && subscriptions.Length > 0)
            {
                AppendQueued(ref batch, subscriptions, ref first);
            }

            if (batch.Length == 0)
            {
                return false;
            }

            if (_sampleArmed && first is not null)
            {
                _sampleArmed = false;
                _metrics!.RecordWriteSample(first.Time, PendingBytes);
            }

            using var deliver = BrokerTracing.StartDeliver(first?.Trace, first?.Channel, "websocket");
            await SendAsync(batch.Memory);
            return batch.Length >= _batchBytes;
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <summary>Sends one text message, failing with <see cref="OperationCanceledException"/> past the write timeout.</summary>
    /// <remarks>
    /// The deadline is armed only for a send that does not complete at once. Most do: Kestrel's output pipe
    /// takes the bytes and the flush returns. Such a send costs no timer, no token registration, and with a
    /// token that cannot be cancelled <c>ManagedWebSocket</c> takes its lock-acquired fast path; arming a
    /// deadline around every send cost 0.6–3.1 % of the broker's CPU and pushed every send onto its slower
    /// cancellable path (docs/performance.md, "Where the time goes").
    /// </remarks>
    public ValueTask SendAsync(ReadOnlyMemory<byte> message)
    {
        var send = _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            return ValueTask.CompletedTask;
        }

        return AwaitUnderDeadlineAsync(send);
    }

    /// <summary>Sends the closing frame, under the write timeout.</summary>
    /// <remarks>
    /// Once per socket, so it keeps the plain token: cancelling it reaches Kestrel's flush, which aborts the
    /// connection (and <c>ManagedWebSocket</c> aborts itself), so a close frame the client never reads ends at the timeout.
    /// </remarks>
    public Task CloseAsync(int code, string reason)
    {
        _writeDeadline.CancelAfter(_writeTimeout);
        return _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, _writeDeadline.Token);
    }

    /// <summary>Forgets the request: it is ending, and a deadline that passes later must not reach a request that is gone.</summary>
    public void DetachConnection() => _connection = null;

    /// <inheritdoc/>
    public void Dispose() => _writeDeadline.Dispose();

    /// <summary>
    /// Waits for a send that did not complete at once, under the write timeout: past it, the connection is
    /// aborted, which ends the send, and this fails with <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <remarks>
    /// The send was started without a token, so the deadline cannot cancel it; it aborts the connection
    /// instead, through the request's <see cref="IHttpRequestLifetimeFeature.Abort"/> (what <c>HttpContext.Abort</c>
    /// does, and what Kestrel did when the cancelled token reached its flush): that shuts down and disposes the TCP
    /// socket, the transport's send loop ends and completes the pipe's reader, and the pending flush completes.
    /// <c>WebSocket.Abort</c> alone is not relied on: <c>ManagedWebSocket</c>'s abort only disposes the upgraded
    /// stream, which Kestrel does not tie to its output pipe; that it releases the send on ASP.NET Core 10 at all is
    /// the WebSockets middleware's internal wrapper, which aborts the HttpContext too. A send released this way
    /// mostly returns without an error (a completed pipe ends a flush as if it had succeeded), so the deadline's
    /// state decides, not an exception: missing that sank an earlier shared watchdog under CPU stress
    /// (docs/performance.md, "Where the time goes"). One reusable source, as before: armed here, disarmed by
    /// <c>TryReset</c> (which also drops the registration), so a slow send allocates no timer.
    /// </remarks>
    private async ValueTask AwaitUnderDeadlineAsync(ValueTask send)
    {
        // Registered before the timer starts, so a deadline that passes at once still finds it.
        _writeDeadline.Token.UnsafeRegister(static s => ((WebSocketWriter)s!).OnDeadline(), this);
        _writeDeadline.CancelAfter(_writeTimeout);
        bool timedOut;
        try
        {
            await send;
        }
        catch (Exception exception) when (exception is not OperationCanceledException && TimedOut)
        {
            // The abort failed the send (a reset socket, a closed WebSocket): it is the timeout.
            throw new OperationCanceledException("The write passed the write timeout.", exception, _writeDeadline.Token);
        }
        finally
        {
            timedOut = !_writeDeadline.TryReset();
        }

        // Released by the abort without an error (a completed pipe ends a flush as if it had succeeded),
        // or the deadline passed just as the send completed: either way the connection is gone.
        if (timedOut)
        {
            throw new OperationCanceledException(_writeDeadline.Token);
        }
    }

    /// <summary>
    /// The deadline passed during a send: abort the WebSocket, as a cancelled token did (both loops then see it
    /// aborted and fail with cancellation), then the connection, which is what releases the send. Nothing once
    /// the request is ending: ASP.NET Core's wrapper of the accepted WebSocket aborts its HttpContext too, and a
    /// context whose request ended may already serve another.
    /// </summary>
    private void OnDeadline()
    {
        if (_connection is { } connection)
        {
            _socket.Abort();
            connection.Abort();
        }
    }

    private bool TryTakeReply(out OutboundFrame reply)
    {
        // Replies are rare next to publications: skip the queue's lock when the count says it is empty,
        // which a profile of the fan-out found at 3 % of the broker's CPU (it was taken for every batch).
        if (Volatile.Read(ref _queuedReplies) == 0)
        {
            reply = default;
            return false;
        }

        lock (_replies)
        {
            if (!_replies.TryDequeue(out reply))
            {
                return false;
            }
        }

        Interlocked.Decrement(ref _queuedReplies);
        return true;
    }

    /// <summary>
    /// Fills the batch from the feeds, a few messages per lock of each queue, starting at a different
    /// feed each time so a busy channel cannot starve the others.
    /// </summary>
    private void AppendQueued(ref FrameBatch batch, SubscriptionFeed[] feeds, ref Publication? first)
    {
        var taken = new TakenItems();
        Span<FeedItem> items = taken;
        int start = (int)((uint)_rotation++ % (uint)feeds.Length);
        for (int i = 0; i < feeds.Length && batch.Length < _batchBytes; i++)
        {
            var feed = feeds[(start + i) % feeds.Length];
            int count;
            while (batch.Length < _batchBytes && (count = feed.Read(items, _batchBytes - batch.Length)) > 0)
            {
                // No clearing after: the items live on this frame's stack, which is gone when the batch is.
                for (int m = 0; m < count; m++)
                {
                    Append(ref batch, items[m], ref first);
                }
            }
        }
    }

    /// <summary>Adds one item the core yielded: a <c>lagged</c> (the metric is the feed's), an unsolicited <c>subscribed</c>, or a message's shared encoding.</summary>
    private static void Append(ref FrameBatch batch, in FeedItem item, ref Publication? first)
    {
        if (item.Kind == FeedItemKind.Lagged)
        {
            var next = item.Publication;
            batch.Append(ServerFrames.Lagged(next.Channel, item.Dropped, next.Epoch, next.Offset - 1));
            return;
        }

        if (item.Kind == FeedItemKind.Subscribed)
        {
            // Live, it is unsolicited: the channel's history was lost (a new epoch); no request id.
            batch.Append(ServerFrames.Subscribed(null, item.Start.Channel, item.Start.Position!.Value, item.Start.Recovered));
            return;
        }

        if (item.Kind == FeedItemKind.Publication)
        {
            first ??= item.Publication;
        }

        batch.Append(item.Message!.GetEncoded(JsonFrameFormat.Instance));
    }

    /// <summary>
    /// Room for the items read from a feed at a time: 64 holds the feed's 32 messages taken under one
    /// lock even when every one of them follows a gap (a lagged and its publication).
    /// </summary>
    [System.Runtime.CompilerServices.InlineArray(64)]
    private struct TakenItems
    {
        private FeedItem _first;
    }

    /// <summary>A frame among the replies; <paramref name="Counted"/> when it counts against the unread-replies limit.</summary>
    private readonly record struct OutboundFrame(byte[] Bytes, bool Counted);
}
