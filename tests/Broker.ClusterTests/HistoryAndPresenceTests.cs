using System.Text.Json;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.ClusterTests;

/// <summary>PROTOCOL.md, "Running several brokers (cluster)": history, <c>since</c> recovery and presence are the cluster's, not a node's.</summary>
[Collection(ClusterCollection.Name)]
public sealed class HistoryAndPresenceTests(ClusterFixture cluster)
{
    [Fact]
    public async Task History_and_since_recovery_on_one_node_return_what_another_node_published()
    {
        var channel = ClusterClients.NewChannel("history");
        Sdk.PublishResult last = default;
        for (int i = 1; i <= 10; i++)
        {
            last = await cluster.A.Client.PublishAsync(channel, new { i }).WaitAsync(BrokerServer.DefaultTimeout);
        }

        Assert.Equal(10UL, last.Offset);

        // history on node b (WebSocket), all ten, at A's position.
        await using var reader = await cluster.B.ConnectSocketAsync("reader");
        await reader.SendJsonAsync(new { type = "history", id = 5, channel, limit = 100 });
        var history = await reader.ExpectAsync("history");
        Assert.Equal(last.Epoch, history.Epoch());
        Assert.Equal(10, history.Offset());
        Assert.Equal(Enumerable.Range(1, 10), history.GetProperty("publications").EnumerateArray().Select(static p => p.GetProperty("data").GetProperty("i").GetInt32()));

        // since on node c: exactly what came after offset 4, then live.
        await using var late = await cluster.C.ConnectSocketAsync("late");
        var subscribed = await late.SubscribeAsync(channel, since: new { epoch = last.Epoch, offset = 4 });
        Assert.True(subscribed.GetProperty("recovered").GetBoolean(), subscribed.ToString());
        for (long offset = 5; offset <= 10; offset++)
        {
            var pub = await late.NextPublicationAsync();
            Assert.Equal((offset, last.Epoch), (pub.Offset(), pub.Epoch()));
        }

        await reader.PublishAsync(channel, new { i = 11 }, id: 6);
        var live = await late.NextPublicationAsync();
        Assert.Equal(11, live.Offset());

        // And the gRPC history of node c agrees.
        var grpc = await cluster.C.Client.HistoryAsync(channel, since: new Sdk.StreamPosition(last.Epoch, 8)).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(grpc.Recovered);
        Assert.Equal([9UL, 10UL, 11UL], grpc.Publications.Select(static p => p.Offset));
    }

    [Fact]
    public async Task Presence_joins_and_leaves_made_on_any_node_are_seen_on_every_node()
    {
        var channel = ClusterClients.NewChannel("presence");
        await using var watcher = await cluster.C.ConnectSocketAsync("watcher");
        await watcher.SubscribeAsync(channel);
        Assert.Equal("watcher", (await NextPresenceAsync(watcher, "join")).GetProperty("member").GetProperty("userId").GetString());

        await using var alice = await cluster.A.ConnectSocketAsync("alice");
        await alice.SubscribeAsync(channel);
        Assert.Equal("alice", (await NextPresenceAsync(watcher, "join")).GetProperty("member").GetProperty("userId").GetString());
        var bob = await cluster.B.ConnectSocketAsync("bob");
        try
        {
            await bob.SubscribeAsync(channel);
            Assert.Equal("bob", (await NextPresenceAsync(watcher, "join")).GetProperty("member").GetProperty("userId").GetString());

            // The members, asked on node a (WebSocket) and node b (gRPC): everyone, wherever connected.
            await alice.SendJsonAsync(new { type = "presence", id = 7, channel });
            var members = await alice.SkipToAsync("presence");
            Assert.Equal(["alice", "bob", "watcher"], members.GetProperty("members").EnumerateArray().Select(static m => m.GetProperty("userId").GetString()).Order());
            var grpc = await cluster.B.Client.PresenceAsync(channel).WaitAsync(BrokerServer.DefaultTimeout);
            Assert.Equal(["alice", "bob", "watcher"], grpc.Select(static m => m.UserId).Order());
        }
        finally
        {
            await bob.DisposeAsync();
        }

        Assert.Equal("bob", (await NextPresenceAsync(watcher, "leave")).GetProperty("member").GetProperty("userId").GetString());
    }

    /// <summary>The next join or leave (skipping pings), which must be of <paramref name="type"/>.</summary>
    internal static async Task<JsonElement> NextPresenceAsync(TestSocket socket, string type, TimeSpan? timeout = null)
    {
        var frame = await socket.NextFrameAsync(timeout);
        Assert.True(frame.GetProperty("type").GetString() == type, $"expected '{type}', got {frame}");
        return frame;
    }
}
