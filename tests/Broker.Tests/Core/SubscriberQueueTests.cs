using Broker.Core;
using Broker.Telemetry;
using System.Diagnostics.Metrics;
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
