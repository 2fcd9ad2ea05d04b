using System.Diagnostics.CodeAnalysis;
using Broker.Core.Internal;
using Broker.Diagnostics;
using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// A subscriber's bounded queue, by message count and by bytes, with the namespace's overflow policy.
/// Fan-out only ever calls <see cref="TryWrite"/>, which never waits: a publisher is never held up by
/// its slowest subscriber (PROTOCOL.md, <c>BufferMessages</c>, <c>BufferBytes</c>, <c>Overflow</c>).
/// </summary>
/// <remarks>
/// <para>A ring of references under one <see cref="Lock"/>, with its own single-consumer wait. It used
/// to be a bounded <c>Channel&lt;T&gt;</c>: a profile of the 1,000-subscriber fan-out showed a fifth of
/// the broker's CPU in that channel's monitor (taken once per write and once per read, the cache line
/// bouncing between the publisher's core and the writers'), plus a separate interlocked byte count.
/// Here a write takes the lock once and counts bytes inside it, and the consumer takes a whole batch
/// under one lock with <see cref="TryReadMany"/>.</para>
/// <para>Under <see cref="OverflowPolicy.DropOldest"/> a full queue (by count or by bytes) drops its
/// oldest messages to make room. Every drop is counted (<see cref="Dropped"/> and
/// <c>broker.messages.dropped</c>). The consumer learns of drops from the offsets it sees: a jump in a
/// channel's offsets is exactly the publications dropped (<see cref="DeliveryCursor"/>), which needs no
/// shared state between publisher and consumer and so cannot be reordered against the messages.</para>
/// <para>Under <see cref="OverflowPolicy.Disconnect"/> a full queue completes itself and tells the
/// listener once; the consumer closes as a slow consumer and counts what was left with
/// <see cref="DiscardPending"/>.</para>
/// <para>One consumer reads (<see cref="TryRead"/>, <see cref="TryReadMany"/>,
/// <see cref="WaitToReadAsync"/>); any number of publishers write.</para>
/// </remarks>
public sealed class SubscriberQueue
{
    /// <summary>
    /// The ring's first size, made at the first write, and doubled up to the capacity from there: most subscribers
    /// never have more than a few messages waiting, and an idle one should not hold a capacity-sized array (1,024
    /// references are 8 KiB), nor any array (a browser's personal channel mostly never gets a message).
    /// </summary>
    private const int InitialRingSize = 8;

    /// <summary>The most a message is charged beyond its data: the fixed overhead plus the longest channel and event names.</summary>
    public const int MaxOverheadBytes = ChannelMessage.FixedOverheadBytes + ChannelNames.MaxChannelLength + ChannelNames.MaxEventLength;

    private readonly Lock _lock = new();
    private readonly int _capacity;
    private readonly long _maxBytes;
    private readonly OverflowPolicy _policy;
    private readonly ISubscriberQueueListener? _listener;
    private readonly BrokerMetrics? _metrics;
    // Made at the first wait: only a gRPC subscriber's stream waits on its queue; a socket's writer is woken by the
    // listener instead, so its queues never hold one (96 bytes each).
    private QueueWaiter? _waiter;
    private readonly QueueBudget? _budget;
    private ChannelMessage?[] _ring = [];
    private int _head;
    private int _count;
    private long _bytes;
    private long _dropped;
    private bool _completed;
    private bool _overflowed;

    /// <summary>Creates a queue bounded by <paramref name="capacity"/> messages and <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="capacity">The most messages it holds.</param>
    /// <param name="maxBytes">The most bytes it holds.</param>
    /// <param name="policy">What a full queue does.</param>
    /// <param name="listener">Told of each write and of an overflow.</param>
    /// <param name="metrics">Counts drops.</param>
    /// <param name="budget">The node's ceiling on all queued bytes, which this queue reports to (<see cref="QueueBudget"/>).</param>
    public SubscriberQueue(int capacity, long maxBytes, OverflowPolicy policy, ISubscriberQueueListener? listener = null, BrokerMetrics? metrics = null, QueueBudget? budget = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _capacity = capacity;
        _maxBytes = maxBytes;
        _policy = policy;
        _listener = listener;
        _metrics = metrics;
        _budget = budget;
    }

    /// <summary>A queue sized and governed by a namespace's policy.</summary>
    public static SubscriberQueue For(NamespacePolicy policy, ISubscriberQueueListener? listener = null, BrokerMetrics? metrics = null, QueueBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(policy.BufferMessages, policy.BufferBytes, policy.Overflow, listener, metrics, budget);
    }

    /// <summary>The overflow policy.</summary>
    public OverflowPolicy Policy => _policy;

    /// <summary>Messages waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Bytes waiting, as charged by <see cref="ChannelMessage.QueueBytes"/>.</summary>
    public long PendingBytes => Volatile.Read(ref _bytes);

    /// <summary>Messages dropped by this queue's overflow policy so far.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>True once a <see cref="OverflowPolicy.Disconnect"/> queue has overflowed.</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed);

    /// <summary>
    /// Queues <paramref name="message"/> without waiting. False when the queue is completed, or when a
    /// <see cref="OverflowPolicy.Disconnect"/> queue is full (it then completes itself and tells the listener).
    /// </summary>
    public bool TryWrite(ChannelMessage message)
    {
        int size = message.QueueBytes;
        int dropped = 0;
        bool overflow = false;
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            if (_count == _capacity || _bytes + size > _maxBytes)
            {
                if (_policy == OverflowPolicy.Disconnect)
                {
                    overflow = _overflowed = _completed = true;
                    _dropped++;
                }
                else
                {
                    // Keep at least the newest message: validation guarantees BufferBytes holds the largest one.
                    while (_count > 0 && (_count == _capacity || _bytes + size > _maxBytes))
                    {
                        RemoveHead();
                        dropped++;
                    }

                    _dropped += dropped;
                }
            }

            if (!overflow)
            {
                Append(message, size);
            }

            wake = _waiter?.TakeWaiting() ?? false;
        }

        // Metrics, the consumer's wake-up and the listener run outside the lock: none of them may
        // hold up the consumer or the next publisher.
        if (overflow)
        {
            _metrics?.RecordDropped(DropReason.SlowConsumer);
            if (wake)
            {
                _waiter!.Wake(false);
            }

            _listener?.OnOverflow(this);
            return false;
        }

        if (dropped > 0)
        {
            _metrics?.RecordDropped(DropReason.Overflow, dropped);
        }

        if (wake)
        {
            _waiter!.Wake(true);
        }

        _listener?.OnQueued(this);
        return true;
    }

    /// <summary>Takes the next message, if one is waiting. Only the consumer calls this.</summary>
    public bool TryRead([MaybeNullWhen(false)] out ChannelMessage message)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                message = null;
                return false;
            }

            message = RemoveHead();
            return true;
        }
    }

    /// <summary>
    /// Takes waiting messages, oldest first, into <paramref name="destination"/>, under one lock: at
    /// least one if any is waiting, then more while their <see cref="ChannelMessage.QueueBytes"/> stay
    /// within <paramref name="maxBytes"/>. Returns how many. Only the consumer calls this.
    /// </summary>
    public int TryReadMany(Span<ChannelMessage?> destination, long maxBytes)
    {
        // An empty queue is passed by one read of its count, without its lock: a socket's writer reads every feed on
        // each wake-up (its personal channel's too, which mostly never gets a message), and each lock is a cache miss
        // on an object nobody touched since. A 0 read just before a write is what a read racing that write under the
        // lock sees too, and neither consumer misses the message: a socket's writer re-armed its WakeSignal with a full
        // fence before reading, so its producer, which wrote first, signals it again; a gRPC stream that reads 0 goes
        // on to WaitToReadAsync, which looks again under the lock.
        if (Volatile.Read(ref _count) == 0)
        {
            return 0;
        }

        int taken = 0;
        long bytes = 0;
        lock (_lock)
        {
            while (taken < destination.Length && _count > 0)
            {
                var next = _ring[_head]!;
                bytes += next.QueueBytes;
                if (taken > 0 && bytes > maxBytes)
                {
                    break;
                }

                destination[taken++] = RemoveHead();
            }
        }

        return taken;
    }

    /// <summary>Waits until a message is waiting (true) or the queue is completed and empty (false). Only the consumer waits.</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                return ValueTask.FromResult(true);
            }

            if (_completed)
            {
                return ValueTask.FromResult(false);
            }

            return (_waiter ??= new QueueWaiter(_lock)).Wait(cancellationToken);
        }
    }

    /// <summary>Stops the queue: no more writes; the consumer drains what is left, then its wait returns false.</summary>
    public void Complete()
    {
        bool wake;
        bool any;
        lock (_lock)
        {
            _completed = true;
            any = _count > 0;
            wake = _waiter?.TakeWaiting() ?? false;
        }

        if (wake)
        {
            _waiter!.Wake(any);
        }
    }

    /// <summary>Completes the queue and throws away what is waiting, counting it as dropped for <paramref name="reason"/>. Returns how many.</summary>
    public int DiscardPending(DropReason reason)
    {
        Complete();
        int discarded;
        lock (_lock)
        {
            discarded = _count;
            while (_count > 0)
            {
                RemoveHead();
            }

            _dropped += discarded;
        }

        _metrics?.RecordDropped(reason, discarded);
        return discarded;
    }

    /// <summary>
    /// Empties a queue whose consumer stopped reading it (an unsubscribe): completes it and lets go of what is
    /// waiting without counting it as dropped (it was not wanted), so the node's <see cref="QueueBudget"/> gets
    /// the bytes back. Returns how many were let go.
    /// </summary>
    public int Clear()
    {
        Complete();
        lock (_lock)
        {
            int cleared = _count;
            while (_count > 0)
            {
                RemoveHead();
            }

            return cleared;
        }
    }

    /// <summary>Adds a message after the newest. Under the lock, with room by count.</summary>
    private void Append(ChannelMessage message, int size)
    {
        if (_count == _ring.Length)
        {
            Grow();
        }

        // A compare instead of a modulo: the ring's length need not be a power of two (it ends at the
        // configured capacity), and a division would cost more than the rest of the write.
        int tail = _head + _count;
        if (tail >= _ring.Length)
        {
            tail -= _ring.Length;
        }

        _ring[tail] = message;
        _count++;
        long before = _bytes;
        _bytes += size;
        // One compare per message; the shared budget is touched only when this queue crosses a 4 KiB step (QueueBudget).
        if (_budget is not null && (before >> QueueBudget.QuantumShift) != (_bytes >> QueueBudget.QuantumShift))
        {
            _budget.Moved(before, _bytes);
        }
    }

    /// <summary>Takes the oldest message off the ring. Under the lock, with <see cref="_count"/> above zero.</summary>
    private ChannelMessage RemoveHead()
    {
        var message = _ring[_head]!;
        _ring[_head] = null;  // the ring must not keep a delivered publication alive
        if (++_head == _ring.Length)
        {
            _head = 0;
        }

        _count--;
        long before = _bytes;
        _bytes -= message.QueueBytes;
        // As in Append: the shared budget only at a 4 KiB step.
        if (_budget is not null && (before >> QueueBudget.QuantumShift) != (_bytes >> QueueBudget.QuantumShift))
        {
            _budget.Moved(before, _bytes);
        }

        return message;
    }

    /// <summary>Makes the ring, or doubles it (never past the capacity), unrolling it so the oldest message is first. Under the lock.</summary>
    private void Grow()
    {
        var larger = new ChannelMessage?[(int)Math.Min(_capacity, Math.Max(InitialRingSize, _ring.Length * 2L))];
        int firstPart = Math.Min(_count, _ring.Length - _head);
        Array.Copy(_ring, _head, larger, 0, firstPart);
        Array.Copy(_ring, 0, larger, firstPart, _count - firstPart);

        _ring = larger;
        _head = 0;
    }
}
