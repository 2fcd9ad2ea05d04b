using System.Diagnostics.Metrics;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Tests.Core;

public class SubscriberQueueTests
{
    private static Publication Pub(ulong offset, int dataBytes = 2) =>
        new("c", "message", Json.Of(dataBytes <= 2 ? "{}" : "\"" + new string('x', dataBytes - 2) + "\""), new StreamPosition("e", offset), DateTimeOffset.UnixEpoch, null);

    [Fact]
    public void DropOldestKeepsTheNewestByCount()
    {
        var queue = new SubscriberQueue(capacity: 3, maxBytes: 1 << 20, OverflowPolicy.DropOldest);
        for (ulong i = 1; i <= 5; i++)
        {
            Assert.True(queue.TryWrite(Pub(i)));
        }

        Assert.Equal(2, queue.Dropped);
        Assert.Equal(new ulong[] { 3, 4, 5 }, Drain(queue));
    }

    [Fact]
    public void DropOldestKeepsTheByteBound()
    {
        var one = Pub(1, dataBytes: 1000).QueueBytes;
        var queue = new SubscriberQueue(capacity: 100, maxBytes: one * 3, OverflowPolicy.DropOldest);
        for (ulong i = 1; i <= 10; i++)
        {
            queue.TryWrite(Pub(i, dataBytes: 1000));
            Assert.True(queue.PendingBytes <= one * 3);
        }

        Assert.Equal(7, queue.Dropped);
        Assert.Equal(new ulong[] { 8, 9, 10 }, Drain(queue));
        Assert.Equal(0, queue.PendingBytes);
    }

    [Fact]
    public void DisconnectPolicyRefusesAndTellsOnceWhenFull()
    {
        var listener = new RecordingListener();
        var queue = new SubscriberQueue(capacity: 2, maxBytes: 1 << 20, OverflowPolicy.Disconnect, listener);
        Assert.True(queue.TryWrite(Pub(1)));
        Assert.True(queue.TryWrite(Pub(2)));
        Assert.False(queue.TryWrite(Pub(3)));
        Assert.False(queue.TryWrite(Pub(4)));
        Assert.Equal(1, listener.Overflows);
        Assert.True(queue.Overflowed);
        Assert.Equal(2, listener.Queued);

        // What was queued before the overflow can still be drained (or discarded and counted).
        Assert.Equal(2, queue.DiscardPending(DropReason.SlowConsumer));
        Assert.Equal(3, queue.Dropped);
    }

    [Fact]
    public void DisconnectPolicyAlsoTripsOnBytes()
    {
        var listener = new RecordingListener();
        var one = Pub(1, dataBytes: 1000).QueueBytes;
        var queue = new SubscriberQueue(capacity: 100, maxBytes: one * 2, OverflowPolicy.Disconnect, listener);
        Assert.True(queue.TryWrite(Pub(1, 1000)));
        Assert.True(queue.TryWrite(Pub(2, 1000)));
        Assert.False(queue.TryWrite(Pub(3, 1000)));
        Assert.Equal(1, listener.Overflows);
    }

    [Fact]
    public async Task CompleteEndsTheConsumersWaitAfterDraining()
    {
        var queue = new SubscriberQueue(4, 1 << 20, OverflowPolicy.DropOldest);
        queue.TryWrite(Pub(1));
        queue.Complete();
        Assert.False(queue.TryWrite(Pub(2)));
        Assert.True(await queue.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(queue.TryRead(out _));
        Assert.False(await queue.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void TryReadManyTakesInOrderWithinTheByteBudget()
    {
        var queue = new SubscriberQueue(100, 1 << 20, OverflowPolicy.DropOldest);
        for (ulong i = 1; i <= 5; i++)
        {
            queue.TryWrite(Pub(i));
        }

        var taken = new ChannelMessage?[10];
        int one = Pub(1).QueueBytes;
        Assert.Equal(2, queue.TryReadMany(taken, maxBytes: (one * 2) + 1));
        Assert.Equal(1, queue.TryReadMany(taken.AsSpan(2), maxBytes: 1));  // always at least one
        Assert.Equal(2, queue.TryReadMany(taken.AsSpan(3), maxBytes: long.MaxValue));
        Assert.Equal(0, queue.TryReadMany(taken, maxBytes: long.MaxValue));
        Assert.Equal(new ulong[] { 1, 2, 3, 4, 5 }, taken[..5].Select(static m => ((Publication)m!).Offset));
        Assert.Equal(0, queue.PendingBytes);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void TheRingKeepsOrderAcrossGrowthAndWrapAround()
    {
        var queue = new SubscriberQueue(capacity: 50, 1 << 20, OverflowPolicy.DropOldest);
        var read = new List<ulong>();
        ulong next = 1;
        // Interleave writes and reads so the ring wraps at each of its sizes, then overflow it.
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < round * 3; i++)
            {
                queue.TryWrite(Pub(next++));
            }

            for (int i = 0; i < round; i++)
            {
                if (queue.TryRead(out var message))
                {
                    read.Add(((Publication)message).Offset);
                }
            }
        }

        read.AddRange(Drain(queue));
        Assert.Equal(next - 1, (ulong)read.Count + (ulong)queue.Dropped);
        Assert.Equal(read.Order(), read);
        Assert.Equal(next - 1, read[^1]);
    }

    [Fact]
    public async Task AWaitEndsWhenAMessageIsWritten()
    {
        var queue = new SubscriberQueue(4, 1 << 20, OverflowPolicy.DropOldest);
        var wait = queue.WaitToReadAsync().AsTask();
        Assert.False(wait.IsCompleted);
        queue.TryWrite(Pub(1));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));

        // The waiter is reused: a second wait works the same way.
        Assert.True(queue.TryRead(out _));
        var second = queue.WaitToReadAsync().AsTask();
        Assert.False(second.IsCompleted);
        queue.TryWrite(Pub(2));
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ACancelledWaitThrowsAndTheNextWaitStillWorks()
    {
        var queue = new SubscriberQueue(4, 1 << 20, OverflowPolicy.DropOldest);
        using var cancel = new CancellationTokenSource();
        var wait = queue.WaitToReadAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));

        var next = queue.WaitToReadAsync().AsTask();
        queue.TryWrite(Pub(1));
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task OverflowUnderTheDisconnectPolicyEndsTheWait()
    {
        var queue = new SubscriberQueue(1, 1 << 20, OverflowPolicy.Disconnect);
        queue.TryWrite(Pub(1));
        Assert.True(queue.TryRead(out _));
        queue.TryWrite(Pub(2));
        Assert.False(queue.TryWrite(Pub(3)));
        Assert.True(await queue.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(queue.TryRead(out _));
        Assert.False(await queue.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ManyPublishersOneConsumerLoseNothingUnderCapacity()
    {
        const int publishers = 4;
        const int each = 5_000;
        var queue = new SubscriberQueue(publishers * each, long.MaxValue, OverflowPolicy.DropOldest);
        var consumer = Task.Run(async () =>
        {
            var seen = new List<ulong>();
            var taken = new ChannelMessage?[16];
            while (await queue.WaitToReadAsync())
            {
                int count;
                while ((count = queue.TryReadMany(taken, long.MaxValue)) > 0)
                {
                    seen.AddRange(taken[..count].Select(static m => ((Publication)m!).Offset));
                }
            }

            return seen;
        });
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(p => Task.Run(() =>
        {
            for (int i = 0; i < each; i++)
            {
                queue.TryWrite(Pub((ulong)((p * each) + i)));
            }
        }))).WaitAsync(TimeSpan.FromSeconds(30));
        queue.Complete();
        var seen = await consumer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(publishers * each, seen.Distinct().Count());
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public void DropsAreCountedInTheMetric()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var metrics = new ServerMetrics(factory);
        var queue = new SubscriberQueue(1, 1 << 20, OverflowPolicy.DropOldest, metrics: new BrokerMetrics(factory));
        queue.TryWrite(Pub(1));
        queue.TryWrite(Pub(2));
        queue.TryWrite(Pub(3));
        Assert.Equal(2, metrics.Sum("broker.messages.dropped", "overflow"));
    }

    private static ulong[] Drain(SubscriberQueue queue)
    {
        var offsets = new List<ulong>();
        while (queue.TryRead(out var message))
        {
            offsets.Add(((Publication)message).Offset);
        }

        return [.. offsets];
    }

    private sealed class RecordingListener : ISubscriberQueueListener
    {
        public int Queued;
        public int Overflows;

        public void OnQueued(SubscriberQueue queue) => Queued++;

        public void OnOverflow(SubscriberQueue queue) => Overflows++;
    }
}
