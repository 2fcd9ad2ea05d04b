using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Broker.Telemetry;

namespace Broker.Core;

/// <summary>
/// A subscriber's bounded queue, by message count and by bytes, with the namespace's overflow policy.
/// Fan-out only ever calls <see cref="TryWrite"/>, which never waits: a publisher is never held up by
/// its slowest subscriber (PROTOCOL.md, <c>BufferMessages</c>, <c>BufferBytes</c>, <c>Overflow</c>).
/// </summary>
/// <remarks>
/// <para>Built on a bounded <see cref="Channel{T}"/>. Under <see cref="OverflowPolicy.DropOldest"/> the
/// channel drops the oldest message itself when the count bound is hit; the byte bound is kept here by
/// reading the oldest off the front. Every drop is counted (<see cref="Dropped"/> and
/// <c>broker.messages.dropped</c>). The consumer learns of drops from the offsets it sees: a jump in a
/// channel's offsets is exactly the publications dropped (<see cref="DeliveryCursor"/>), which needs no
/// shared state between publisher and consumer and so cannot be reordered against the messages.</para>
/// <para>Under <see cref="OverflowPolicy.Disconnect"/> a full queue completes itself and tells the
/// listener once; the consumer closes as a slow consumer and counts what was left with
/// <see cref="DiscardPending"/>.</para>
/// <para>Stop the consumer by <see cref="Complete"/>, not by cancelling its reads: a bounded channel
/// allocates a waiter per wait when the token can be cancelled.</para>
/// </remarks>
public sealed class SubscriberQueue
{
    private readonly Channel<ChannelMessage> _channel;
    private readonly long _maxBytes;
    private readonly OverflowPolicy _policy;
    private readonly ISubscriberQueueListener? _listener;
    private readonly BrokerMetrics? _metrics;
    private long _bytes;
    private long _dropped;
    private int _overflowed;

    /// <summary>Creates a queue bounded by <paramref name="capacity"/> messages and <paramref name="maxBytes"/> bytes.</summary>
    public SubscriberQueue(int capacity, long maxBytes, OverflowPolicy policy, ISubscriberQueueListener? listener = null, BrokerMetrics? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _maxBytes = maxBytes;
        _policy = policy;
        _listener = listener;
        _metrics = metrics;
        var options = new BoundedChannelOptions(capacity)
        {
            FullMode = policy == OverflowPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            // The byte bound reads the oldest message from the writer's side, so the channel has two readers.
            SingleReader = false,
            SingleWriter = false,
            // Never run the consumer's continuation inline on the publisher's thread: fan-out must not
            // pay for a subscriber's work.
            AllowSynchronousContinuations = false,
        };
        _channel = policy == OverflowPolicy.DropOldest
            ? Channel.CreateBounded<ChannelMessage>(options, OnDroppedByChannel)
            : Channel.CreateBounded<ChannelMessage>(options);
    }

    /// <summary>A queue sized and governed by a namespace's policy.</summary>
    public static SubscriberQueue For(NamespacePolicy policy, ISubscriberQueueListener? listener = null, BrokerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(policy.BufferMessages, policy.BufferBytes, policy.Overflow, listener, metrics);
    }

    /// <summary>The overflow policy.</summary>
    public OverflowPolicy Policy => _policy;

    /// <summary>Messages waiting.</summary>
    public int Count => _channel.Reader.Count;

    /// <summary>Bytes waiting, as charged by <see cref="ChannelMessage.QueueBytes"/>.</summary>
    public long PendingBytes => Math.Max(0, Volatile.Read(ref _bytes));

    /// <summary>Messages dropped by this queue's overflow policy so far.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>True once a <see cref="OverflowPolicy.Disconnect"/> queue has overflowed.</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed) != 0;

    /// <summary>A task that completes when the queue is completed and drained.</summary>
    public Task Completion => _channel.Reader.Completion;

    /// <summary>
    /// Queues <paramref name="message"/> without waiting. False when the queue is completed, or when a
    /// <see cref="OverflowPolicy.Disconnect"/> queue is full (it then completes itself and tells the listener).
    /// </summary>
    public bool TryWrite(ChannelMessage message)
    {
        int size = message.QueueBytes;
        if (_policy == OverflowPolicy.DropOldest)
        {
            if (!_channel.Writer.TryWrite(message))
            {
                return false;
            }

            if (Interlocked.Add(ref _bytes, size) > _maxBytes)
            {
                TrimToByteBound();
            }
        }
        else if (Interlocked.Add(ref _bytes, size) > _maxBytes || !_channel.Writer.TryWrite(message))
        {
            Interlocked.Add(ref _bytes, -size);
            Overflow();
            return false;
        }

        _listener?.OnQueued(this);
        return true;
    }

    /// <summary>Takes the next message, if one is waiting. Only the consumer calls this.</summary>
    public bool TryRead([MaybeNullWhen(false)] out ChannelMessage message)
    {
        if (_channel.Reader.TryRead(out message))
        {
            Interlocked.Add(ref _bytes, -message.QueueBytes);
            return true;
        }

        return false;
    }

    /// <summary>Waits until a message is waiting (true) or the queue is completed and empty (false).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
        _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Stops the queue: no more writes; the consumer drains what is left, then its wait returns false.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Completes the queue and throws away what is waiting, counting it as dropped for <paramref name="reason"/>. Returns how many.</summary>
    public int DiscardPending(DropReason reason)
    {
        Complete();
        int discarded = 0;
        while (TryRead(out _))
        {
            discarded++;
        }

        Interlocked.Add(ref _dropped, discarded);
        _metrics?.RecordDropped(reason, discarded);
        return discarded;
    }

    private void TrimToByteBound()
    {
        // Keep at least the newest message: validation guarantees BufferBytes holds the largest one.
        while (Volatile.Read(ref _bytes) > _maxBytes && _channel.Reader.Count > 1 && _channel.Reader.TryRead(out var oldest))
        {
            OnDroppedByChannel(oldest);
        }
    }

    private void OnDroppedByChannel(ChannelMessage dropped)
    {
        Interlocked.Add(ref _bytes, -dropped.QueueBytes);
        Interlocked.Increment(ref _dropped);
        _metrics?.RecordDropped(DropReason.Overflow);
    }

    private void Overflow()
    {
        if (Interlocked.Exchange(ref _overflowed, 1) != 0)
        {
            return;
        }

        Interlocked.Increment(ref _dropped);
        _metrics?.RecordDropped(DropReason.SlowConsumer);
        Complete();
        _listener?.OnOverflow(this);
    }
}
