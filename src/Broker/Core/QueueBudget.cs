namespace Broker.Core;

/// <summary>
/// The bytes queued for all subscribers of this node, against a ceiling (<c>Broker:MaxQueuedBytes</c>): past it
/// the node refuses new work (publish, subscribe) with <c>unavailable</c> instead of growing until the process
/// dies. Each subscriber's own queue is bounded already (<c>BufferBytes</c>); this bounds their sum, which ten
/// thousand subscribers of a flooded channel could otherwise take to gigabytes.
/// </summary>
/// <remarks>
/// <para>
/// Queues report in steps of <see cref="Quantum"/> bytes, not per message (<see cref="SubscriberQueue"/>): a
/// queue adds a step when its own byte count crosses a multiple of 4 KiB upwards and takes it back when it crosses
/// downwards. A healthy subscriber's queue stays under 4 KiB between its writer's reads and never touches this
/// shared counter; only queues that back up do, once per 4 KiB. So the fan-out's hot path gains one compare, not
/// an interlocked add on a cache line every core shares. The price: the total counts each queue's bytes rounded
/// down to 4 KiB, so the real total may be above the counted one by less than 4 KiB per subscription (40 MB for
/// 10,000 subscriptions).
/// </para>
/// <para>Messages from other nodes (a cluster's fan-out) are still delivered: each queue's own bound holds them.</para>
/// </remarks>
public sealed class QueueBudget
{
    /// <summary>log2 of <see cref="Quantum"/>: queues compare their byte counts shifted by this.</summary>
    public const int QuantumShift = 12;

    /// <summary>The step in which queues report: 4 KiB, a few typical messages.</summary>
    public const long Quantum = 1L << QuantumShift;

    private long _bytes;

    /// <summary>Creates a budget of <paramref name="limit"/> bytes.</summary>
    public QueueBudget(long limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
    }

    /// <summary>The ceiling, <c>Broker:MaxQueuedBytes</c>.</summary>
    public long Limit { get; }

    /// <summary>The bytes queued now, counted in <see cref="Quantum"/> steps per queue.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Whether the queued bytes have reached the ceiling: new work is refused.</summary>
    public bool IsExhausted => Interlocked.Read(ref _bytes) >= Limit;

    /// <summary>A queue's byte count went from <paramref name="before"/> to <paramref name="after"/>; counts the steps crossed.</summary>
    internal void Moved(long before, long after)
    {
        long steps = (after >> QuantumShift) - (before >> QuantumShift);
        if (steps != 0)
        {
            Interlocked.Add(ref _bytes, steps << QuantumShift);
        }
    }
}
