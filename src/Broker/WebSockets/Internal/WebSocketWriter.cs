using System.Net.WebSockets;
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

    /// <summary>Creates the writer; <paramref name="batchBytes"/> 1 turns coalescing off (one frame per message).</summary>
    public WebSocketWriter(WebSocket socket, TimeSpan writeTimeout, int batchBytes = DefaultBatchBytes, BrokerMetrics? metrics = null)
    {
        _socket = socket;
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
    public async ValueTask SendAsync(ReadOnlyMemory<byte> message)
    {
        // One reusable deadline: armed before each send, disarmed after (TryReset keeps the source and its
        // timer reusable, so a send allocates no timer of its own).
        _writeDeadline.CancelAfter(_writeTimeout);
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, _writeDeadline.Token);
        if (!_writeDeadline.TryReset())
        {
            throw new OperationCanceledException(_writeDeadline.Token);
        }
    }

    /// <summary>Sends the closing frame, under the write timeout.</summary>
    public Task CloseAsync(int code, string reason)
    {
        _writeDeadline.CancelAfter(_writeTimeout);
        return _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, _writeDeadline.Token);
    }

    /// <inheritdoc/>
    public void Dispose() => _writeDeadline.Dispose();

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
