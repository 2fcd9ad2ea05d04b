using System.Text.Json;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": a publication made on any node reaches subscribers on every
/// node, in offset order, with the same epoch and offset everywhere; idempotency keys are the cluster's.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DeliveryTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Publications_from_every_node_reach_subscribers_on_every_node_in_one_offset_order_with_the_same_position()
    {
        const int PerPublisher = 15;
        var channel = ClusterClients.NewChannel("fanout");
        var subscribers = new List<TestSocket>();
        var publishers = new List<TestSocket>();
        try
        {
            foreach (var node in cluster.Nodes)
            {
                var subscriber = await node.ConnectSocketAsync("sub-" + node.Name);
                subscribers.Add(subscriber);
                await subscriber.SubscribeAsync(channel);
                publishers.Add(await node.ConnectSocketAsync("pub-" + node.Name));
            }

            // Three publishers, one per node, at once: the cluster numbers them 1..45 in one order.
            await Task.WhenAll(publishers.Select((publisher, p) => Task.Run(async () =>
            {
                for (int i = 0; i < PerPublisher; i++)
                {
                    await publisher.PublishAsync(channel, new { p, i }, id: 10 + i);
                }
            })));

            var seen = new List<List<JsonElement>>();
            foreach (var subscriber in subscribers)
            {
                var publications = new List<JsonElement>();
                for (int n = 0; n < 3 * PerPublisher; n++)
                {
                    publications.Add(await subscriber.NextPublicationAsync());
                }

                seen.Add(publications);
            }

            var first = seen[0];
            Assert.Equal(Enumerable.Range(1, 3 * PerPublisher).Select(static o => (long)o), first.Select(static f => f.Offset()));
            Assert.Single(first.Select(static f => f.Epoch()).Distinct());
            foreach (var other in seen.Skip(1))
            {
                Assert.Equal(first.Select(static f => (f.Offset(), f.Epoch(), f.GetProperty("data").GetRawText())), other.Select(static f => (f.Offset(), f.Epoch(), f.GetProperty("data").GetRawText())));
            }

            // Each publisher's own publications keep the order it made them in.
            for (int p = 0; p < publishers.Count; p++)
            {
                var mine = first.Select(static f => f.GetProperty("data")).Where(d => d.GetProperty("p").GetInt32() == p).Select(static d => d.GetProperty("i").GetInt32());
                Assert.Equal(Enumerable.Range(0, PerPublisher), mine);
            }
        }
        finally
        {
            foreach (var socket in subscribers.Concat(publishers))
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_idempotency_key_used_on_one_node_publishes_nothing_when_repeated_on_another()
    {
        var channel = ClusterClients.NewChannel("idem");
        await using var subscriber = await cluster.C.ConnectSocketAsync("idem-watcher");
        await subscriber.SubscribeAsync(channel);
        var key = Guid.NewGuid().ToString("N");

        var first = await cluster.A.Client.PublishAsync(channel, new { n = 1 }, idempotencyKey: key).WaitAsync(BrokerServer.DefaultTimeout);
        var repeated = await cluster.B.Client.PublishAsync(channel, new { n = 2 }, idempotencyKey: key).WaitAsync(BrokerServer.DefaultTimeout);
        var next = await cluster.C.Client.PublishAsync(channel, new { n = 3 }).WaitAsync(BrokerServer.DefaultTimeout);

        Assert.Equal(first.Position, repeated.Position);
        Assert.Equal(first.Offset + 1, next.Offset);
        Assert.Equal(first.Epoch, next.Epoch);
        // The subscriber got the first and the third: the repeat was never published.
        var one = await subscriber.NextPublicationAsync();
        var two = await subscriber.NextPublicationAsync();
        Assert.Equal((1L, 1), (one.Offset(), one.GetProperty("data").GetProperty("n").GetInt32()));
        Assert.Equal((2L, 3), (two.Offset(), two.GetProperty("data").GetProperty("n").GetInt32()));
    }
}
