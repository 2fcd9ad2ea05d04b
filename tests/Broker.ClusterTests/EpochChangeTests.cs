using System.Text.Json;
using System.Threading.Channels;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sdk;
using Xunit.Abstractions;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": when Redis lost a channel's history (a new <c>epoch</c>),
/// each live subscriber of the channel, on every node, is told with an unsolicited <c>subscribed</c> (no
/// <c>id</c>; over gRPC another <c>Subscribed</c>) carrying the new position and <c>recovered:false</c>.
/// The loss is made from outside, with redis-cli, on a channel of this test only.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EpochChangeTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task When_redis_loses_a_channels_history_every_nodes_live_subscribers_get_an_unsolicited_subscribed_with_the_new_position()
    {
        var channel = ClusterClients.NewChannel("epoch");
        var sockets = new List<TestSocket>();
        using var stop = new CancellationTokenSource();
        // The SDK subscriber's callbacks and publications, in stream order (callbacks run on the enumerating thread).
        var grpc = System.Threading.Channels.Channel.CreateUnbounded<object>();
        Task? reader = null;
        try
        {
            foreach (var node in cluster.Nodes)
            {
                var socket = await node.ConnectSocketAsync("epoch-" + node.Name);
                sockets.Add(socket);
                await socket.SubscribeAsync(channel);
            }

            var options = new SubscribeOptions { OnSubscribed = s => grpc.Writer.TryWrite(s) };
            reader = Task.Run(async () =>
            {
                try
                {
                    await foreach (var publication in cluster.C.Client.SubscribeAsync([channel], null, options, stop.Token))
                    {
                        grpc.Writer.TryWrite(publication);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    // Its normal end here.
                }
                catch (Exception e)
                {
                    // A failed subscription fails the test's next read with this, instead of a timeout.
                    grpc.Writer.TryComplete(e);
                }
            });
            var initial = Assert.IsType<ChannelSubscribed>(await grpc.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal(channel, initial.Channel);

            var old = await cluster.A.Client.PublishAsync(channel, new { i = 1 }).WaitAsync(Timeout);
            foreach (var socket in sockets)
            {
                var pub = await socket.NextPublicationAsync();
                Assert.Equal((1L, old.Epoch), (pub.Offset(), pub.Epoch()));
            }

            Assert.Equal(new StreamPosition(old.Epoch, 1), Assert.IsType<Publication>(await grpc.Reader.ReadAsync().AsTask().WaitAsync(Timeout)).Position);

            // Redis loses the channel (evicted, flushed, a failover to an empty replica): both keys were there.
            var prefix = $"{cluster.Prefix}:{{{channel}}}";
            Assert.Equal("2", await cluster.Redis.CommandAsync(Timeout, "DEL", prefix + ":meta", prefix + ":stream"));

            // The next publish, on b, starts a new life of the channel.
            var fresh = await cluster.B.Client.PublishAsync(channel, new { i = 2 }).WaitAsync(Timeout);
            Assert.NotEqual(old.Epoch, fresh.Epoch);
            Assert.Equal(1ul, fresh.Offset);

            foreach (var socket in sockets)
            {
                var told = await socket.NextFrameSkippingPresenceAsync();
                Assert.Equal("subscribed", told.GetProperty("type").GetString());
                Assert.False(told.TryGetProperty("id", out _), $"an unsolicited subscribed has no id: {told}");
                Assert.Equal(channel, told.GetProperty("channel").GetString());
                Assert.Equal((fresh.Epoch, 0L), (told.Epoch(), told.GetProperty("offset").GetInt64()));
                Assert.False(told.GetProperty("recovered").GetBoolean());

                var pub = await socket.NextPublicationAsync();
                Assert.Equal((1L, fresh.Epoch, 2), (pub.Offset(), pub.Epoch(), pub.GetProperty("data").GetProperty("i").GetInt32()));
            }

            var again = Assert.IsType<ChannelSubscribed>(await grpc.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal((channel, new StreamPosition(fresh.Epoch, 0), false), (again.Channel, again.Position, again.Recovered));
            Assert.True(again.EpochChanged);
            Assert.True(again.MayHaveLostPublications);
            var next = Assert.IsType<Publication>(await grpc.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal((new StreamPosition(fresh.Epoch, 1), 2), (next.Position, next.Deserialize<JsonElement>().GetProperty("i").GetInt32()));
        }
        finally
        {
            await stop.CancelAsync();
            if (reader is not null)
            {
                await reader.WaitAsync(Timeout);
            }

            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task When_the_history_went_while_the_nodes_link_to_redis_was_down_the_catch_up_tells_every_nodes_subscribers()
    {
        var channel = ClusterClients.NewChannel("epoch-link");
        var sockets = new List<TestSocket>();
        try
        {
            foreach (var node in cluster.Nodes)
            {
                var socket = await node.ConnectSocketAsync("link-" + node.Name);
                sockets.Add(socket);
                await socket.SubscribeAsync(channel);
            }

            var old = await cluster.A.Client.PublishAsync(channel, new { i = 1 }).WaitAsync(Timeout);
            foreach (var socket in sockets)
            {
                Assert.Equal(1L, (await socket.NextPublicationAsync()).Offset());
            }

            // The history goes, and every node's subscription connection with it: no frame of the new life reaches a
            // node, only the catch-up after its reconnect can find the new epoch.
            var prefix = $"{cluster.Prefix}:{{{channel}}}";
            Assert.Equal("2", await cluster.Redis.CommandAsync(Timeout, "DEL", prefix + ":meta", prefix + ":stream"));
            var sinceKill = System.Diagnostics.Stopwatch.StartNew();
            var killed = int.Parse(await cluster.Redis.CommandAsync(Timeout, "CLIENT", "KILL", "TYPE", "pubsub"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(killed >= cluster.Nodes.Count, $"{killed} pub/sub connections killed, fewer than the nodes");

            var epochs = new List<string>();
            foreach (var socket in sockets)
            {
                var told = await socket.NextFrameSkippingPresenceAsync();
                Assert.Equal("subscribed", told.GetProperty("type").GetString());
                Assert.False(told.TryGetProperty("id", out _), $"an unsolicited subscribed has no id: {told}");
                Assert.Equal((channel, 0L, false), (told.GetProperty("channel").GetString(), told.GetProperty("offset").GetInt64(), told.GetProperty("recovered").GetBoolean()));
                Assert.NotEqual(old.Epoch, told.Epoch());
                epochs.Add(told.Epoch());
            }

            output.WriteLine($"every subscriber told {sinceKill.Elapsed.TotalSeconds:F1} s after the pub/sub connections were killed");

            // One new life, the same on every node, and live delivery goes on in it.
            var fresh = await cluster.B.Client.PublishAsync(channel, new { i = 2 }).WaitAsync(Timeout);
            Assert.Equal((epochs[0], 1ul), (fresh.Epoch, fresh.Offset));
            Assert.All(epochs, e => Assert.Equal(fresh.Epoch, e));
            foreach (var socket in sockets)
            {
                var pub = await socket.NextPublicationAsync();
                Assert.Equal((1L, fresh.Epoch), (pub.Offset(), pub.Epoch()));
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }

            // The next test gets a ready cluster, or fails here saying why.
            await cluster.WaitAllReadyAsync(TimeSpan.FromSeconds(30));
        }
    }
}
