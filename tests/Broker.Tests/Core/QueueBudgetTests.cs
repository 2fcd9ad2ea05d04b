using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Core;

/// <summary>The node-wide ceiling on queued bytes: queues report in 4 KiB steps, and every way out gives the bytes back.</summary>
public class QueueBudgetTests
{
    private static Publication Pub(ulong offset, int dataBytes) =>
        new("c", "message", Json.Of("\"" + new string('x', dataBytes - 2) + "\""), new StreamPosition("e", offset), DateTimeOffset.UnixEpoch, null);

    [Fact]
    public void QueuesReportTheirBytesRoundedDownToSteps_AndTheBudgetIsExhaustedAtItsLimit()
    {
        var budget = new QueueBudget(limit: 64 * QueueBudget.Quantum);
        var a = new SubscriberQueue(10_000, 1 << 30, OverflowPolicy.DropOldest, budget: budget);
        var b = new SubscriberQueue(10_000, 1 << 30, OverflowPolicy.DropOldest, budget: budget);

        // A small queue under one step is not counted at all: the hot path of healthy subscribers.
        a.TryWrite(Pub(1, 100));
        Assert.Equal(0, budget.Bytes);

        ulong offset = 2;
        while (!budget.IsExhausted)
        {
            a.TryWrite(Pub(offset, 1000));
            b.TryWrite(Pub(offset++, 1000));
        }

        long real = a.PendingBytes + b.PendingBytes;
        Assert.Equal((a.PendingBytes >> QueueBudget.QuantumShift << QueueBudget.QuantumShift) + (b.PendingBytes >> QueueBudget.QuantumShift << QueueBudget.QuantumShift), budget.Bytes);
        Assert.True(real - budget.Bytes < 2 * QueueBudget.Quantum);
        Assert.True(budget.Bytes >= budget.Limit);
    }

    [Fact]
    public void ReadingDroppingDiscardingAndClearing_AllGiveTheBytesBack()
    {
        var budget = new QueueBudget(limit: 1 << 30);
        var read = new SubscriberQueue(10_000, 1 << 30, OverflowPolicy.DropOldest, budget: budget);
        var dropping = new SubscriberQueue(10_000, 20 * QueueBudget.Quantum, OverflowPolicy.DropOldest, budget: budget);
        var discarded = new SubscriberQueue(10_000, 1 << 30, OverflowPolicy.DropOldest, budget: budget);
        var cleared = new SubscriberQueue(10_000, 1 << 30, OverflowPolicy.DropOldest, budget: budget);
        for (ulong i = 1; i <= 200; i++)
        {
            read.TryWrite(Pub(i, 1000));
            dropping.TryWrite(Pub(i, 1000));
            discarded.TryWrite(Pub(i, 1000));
            cleared.TryWrite(Pub(i, 1000));
        }

        Assert.True(budget.Bytes > 0);
        Assert.True(dropping.Dropped > 0);
        var batch = new ChannelMessage?[16];
        while (read.TryReadMany(batch, long.MaxValue) > 0)
        {
        }

        while (dropping.TryRead(out _))
        {
        }

        discarded.DiscardPending(DropReason.Closed);
        Assert.Equal(200, cleared.Clear());

        Assert.Equal(0, budget.Bytes);
        Assert.False(cleared.TryWrite(Pub(201, 1000)));
    }
}
