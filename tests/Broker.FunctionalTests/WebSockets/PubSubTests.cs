using System.Text.Json;
using System.Text;
using Broker.Core;
using Broker.Engines;
using Broker.FunctionalTests.Infrastructure;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>subscribe, publish, unsubscribe, permissions and limits.</summary>
public class PubSubTests
{
    [Fact]
    public async Task APublicationReachesEverySubscriberWithItsFields()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (alice, _) = await server.ConnectAsync("alice");
        var (bob, _) = await server.ConnectAsync("bob");
        await using var _1 = alice;
        await using var _2 = bob;
        var subscribed = await alice.SubscribeAsync("room:lobby");
        Assert.Equal(0ul, subscribed.GetProperty("offset").GetUInt64());
        Assert.False(subscribed.GetProperty("recovered").GetBoolean());
        await bob.SubscribeAsync("room:lobby");

        // The publisher is subscribed too: its own pub and its ack may come in either order (the
        // fan-out runs before the ack is queued), so read both.
        await bob.SendJsonAsync(new { type = "publish", id = 4, channel = "room:lobby", @event = "chat.msg", data = new { text = "hi" } });
        var bobFrames = new[] { await bob.ReceiveAsync(), await bob.ReceiveAsync() };
        var ack = bobFrames.Single(f => f.GetProperty("type").GetString() == "ack");
        var bobPub = bobFrames.Single(f => f.GetProperty("type").GetString() == "pub");
        Assert.Equal(4, ack.GetProperty("id").GetInt64());
        Assert.Equal(1ul, ack.GetProperty("offset").GetUInt64());
        Assert.Equal("room:lobby", ack.GetProperty("channel").GetString());
        string epoch = ack.GetProperty("epoch").GetString()!;
        Assert.Equal(subscribed.GetProperty("epoch").GetString(), epoch);

        foreach (var pub in new[] { await alice.ExpectAsync("pub"), bobPub })
        {
            Assert.Equal("room:lobby", pub.GetProperty("channel").GetString());
            Assert.Equal("chat.msg", pub.GetProperty("event").GetString());
            Assert.Equal("hi", pub.GetProperty("data").GetProperty("text").GetString());
            Assert.Equal(1ul, pub.GetProperty("offset").GetUInt64());
            Assert.Equal(epoch, pub.GetProperty("epoch").GetString());
            Assert.True(DateTimeOffset.TryParse(pub.GetProperty("time").GetString(), out _));
            Assert.EndsWith("Z", pub.GetProperty("time").GetString(), StringComparison.Ordinal);
            var from = pub.GetProperty("from");
            Assert.Equal("bob", from.GetProperty("userId").GetString());
            Assert.False(from.TryGetProperty("sessionId", out _));
        }
    }

    [Fact]
    public async Task APublishWithoutIdGetsNoAckButIsDelivered()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("room:a");
        await socket.SendAsync("""{"type":"publish","channel":"room:a","data":[1,2]}""");
        var pub = await socket.ExpectAsync("pub");
        Assert.Equal("message", pub.GetProperty("event").GetString());
        Assert.Equal("[1,2]", pub.GetProperty("data").GetRawText());
    }

    [Fact]
    public async Task FramesArriveInOrderAndSeveralMayShareOneMessage()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("room:burst");
        var hub = server.Services.GetRequiredService<Hub>();
        for (int i = 1; i <= 200; i++)
        {
            await hub.PublishAsync(new PublishCommand("room:burst", "message", Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))), default);
        }

        for (int i = 1; i <= 200; i++)
        {
            var pub = await socket.ExpectAsync("pub");
            Assert.Equal((ulong)i, pub.GetProperty("offset").GetUInt64());
        }

        // 200 publications queued at once are coalesced into far fewer messages than frames.
        Assert.True(socket.MessagesReceived < socket.FramesReceived, $"{socket.MessagesReceived} messages for {socket.FramesReceived} frames");
    }

    [Fact]
    public async Task SubscribingTwiceAndUnsubscribingWhatIsNotSubscribedAreErrors()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("room:a");
        await socket.SendAsync("""{"type":"subscribe","id":5,"channel":"room:a"}""");
        await socket.ExpectErrorAsync("already_subscribed", id: 5);
        await socket.SendAsync("""{"type":"unsubscribe","id":6,"channel":"room:b"}""");
        await socket.ExpectErrorAsync("not_subscribed", id: 6);
    }

    [Fact]
    public async Task AfterUnsubscribedNoMorePublicationsCome()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("room:a");
        await socket.SendAsync("""{"type":"unsubscribe","id":7,"channel":"room:a"}""");
        var unsubscribed = await socket.ExpectAsync("unsubscribed");
        Assert.Equal(7, unsubscribed.GetProperty("id").GetInt64());
        Assert.Equal("room:a", unsubscribed.GetProperty("channel").GetString());

        await socket.SendAsync("""{"type":"publish","id":8,"channel":"room:a","data":1}""");
        await socket.ExpectAsync("ack");
        await socket.ExpectAliveAsync();  // the pong comes next: no pub in between
    }

    [Theory]
    [InlineData("subscribe", "$session:someone-else")]
    [InlineData("subscribe", "$user:alice")]
    [InlineData("publish", "$user:alice")]
    [InlineData("publish", "$session:whoever")]
    public async Task PersonalChannelsAreForbiddenToBrowsersTheirOwnIncluded(string type, string channel)
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SendJsonAsync(new { type, id = 4, channel, data = 1 });
        await socket.ExpectErrorAsync("forbidden", id: 4);
    }

    [Fact]
    public async Task ABackendReachesASessionAndAUserThroughTheirPersonalChannels()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (socket, welcome) = await server.ConnectAsync("alice");
        await using var _1 = socket;
        string sessionId = welcome.GetProperty("sessionId").GetString()!;
        var hub = server.Services.GetRequiredService<Hub>();
        await hub.PublishAsync(new PublishCommand("$session:" + sessionId, "notice", "\"to the session\""u8.ToArray()), default);
        await hub.PublishAsync(new PublishCommand("$user:alice", "notice", "\"to the user\""u8.ToArray()), default);

        var received = new[] { await socket.ExpectAsync("pub"), await socket.ExpectAsync("pub") }
            .ToDictionary(p => p.GetProperty("channel").GetString()!, p => p.GetProperty("data").GetString());
        Assert.Equal("to the session", received["$session:" + sessionId]);
        Assert.Equal("to the user", received["$user:alice"]);
    }

    [Fact]
    public async Task NamespacePermissionsAreCheckedOnEverySubscribeAndPublish()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:AllowAnonymous", "true")));
        await using var anonymous = await TestSocket.ConnectAsync(server);
        await anonymous.SendAsync("""{"type":"hello"}""");
        await anonymous.ExpectAsync("welcome");
        await anonymous.SendAsync("""{"type":"subscribe","id":2,"channel":"news:today"}""");
        await anonymous.ExpectErrorAsync("forbidden", id: 2);  // news: authenticated only

        await using var user = await server.ConnectSocketAsync("alice");
        await user.SubscribeAsync("news:today");
        await user.SendAsync("""{"type":"publish","id":3,"channel":"news:today","data":1}""");
        await user.ExpectErrorAsync("forbidden", id: 3);  // news: no browser publishes
        await user.SendAsync("""{"type":"subscribe","id":4,"channel":"unknown:x"}""");
        await user.ExpectErrorAsync("not_found", id: 4);
    }

    [Fact]
    public async Task SubscriptionsPerConnectionAreLimitedPersonalOnesNotCounted()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:MaxSubscriptions", "2")));
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SubscribeAsync("room:a", id: 2);
        await socket.SubscribeAsync("room:b", id: 3);
        await socket.SendAsync("""{"type":"subscribe","id":4,"channel":"room:c"}""");
        await socket.ExpectErrorAsync("limit_exceeded", id: 4);
        await socket.SendAsync("""{"type":"unsubscribe","id":5,"channel":"room:a"}""");
        await socket.ExpectAsync("unsubscribed");
        await socket.SubscribeAsync("room:c", id: 6);
    }

    [Fact]
    public async Task ClosingASocketRemovesItsSubscriptions()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var hub = server.Services.GetRequiredService<Hub>();
        var (socket, _) = await server.ConnectAsync("alice");
        await socket.SubscribeAsync("room:a");
        Assert.Equal(3, hub.SubscriptionCount);  // room:a plus the two personal channels
        await socket.DisposeAsync();
        await WaitUntil(() => hub.SubscriptionCount == 0);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        // Polls a condition the server reaches asynchronously after a close (no signal crosses the
        // process boundary for it); bounded by the test timeout.
        using var timeout = new CancellationTokenSource(BrokerServer.DefaultTimeout);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
