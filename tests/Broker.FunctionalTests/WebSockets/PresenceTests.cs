using Broker.FunctionalTests.Infrastructure;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>join, leave and presence, per user for browsers.</summary>
public class PresenceTests
{
    [Fact]
    public async Task JoinComesWithAUsersFirstConnectionAndLeaveWithTheLast()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var watcher = await server.ConnectSocketAsync("watcher");
        await watcher.SubscribeAsync("chat:room");
        Assert.Equal("watcher", (await watcher.ExpectAsync("join")).GetProperty("member").GetProperty("userId").GetString());

        var (tab1, _) = await server.ConnectAsync("bob");
        var (tab2, _) = await server.ConnectAsync("bob");
        await tab1.SubscribeAsync("chat:room");
        var join = await watcher.ExpectAsync("join");
        Assert.Equal("chat:room", join.GetProperty("channel").GetString());
        Assert.Equal("bob", join.GetProperty("member").GetProperty("userId").GetString());
        await tab2.SubscribeAsync("chat:room");  // bob's second connection: no second join

        await watcher.SendAsync("""{"type":"presence","id":9,"channel":"chat:room"}""");
        var presence = await watcher.ExpectAsync("presence");
        Assert.Equal(9, presence.GetProperty("id").GetInt64());
        var members = presence.GetProperty("members").EnumerateArray()
            .ToDictionary(m => m.GetProperty("userId").GetString()!, m => m.GetProperty("connections").GetInt32());
        Assert.Equal(2, members["bob"]);
        Assert.Equal(1, members["watcher"]);
        Assert.Equal(0, presence.GetProperty("anonymous").GetInt32());
        Assert.False(presence.GetProperty("members")[0].TryGetProperty("sessionId", out _));

        await tab1.DisposeAsync();
        await watcher.ExpectAliveAsync();  // bob still has a connection: no leave yet
        await tab2.DisposeAsync();
        var leave = await watcher.ExpectAsync("leave");
        Assert.Equal("bob", leave.GetProperty("member").GetProperty("userId").GetString());
    }

    [Fact]
    public async Task AnonymousSessionsAreOnlyCounted()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (watcher, _) = await server.ConnectAsync("watcher");
        var (anonymous, _) = await server.ConnectAsync(userId: null);
        await using var _1 = watcher;
        await using var _2 = anonymous;
        await watcher.SubscribeAsync("chat:room");
        await watcher.ExpectAsync("join");
        await anonymous.SubscribeAsync("chat:room");
        await watcher.SendAsync("""{"type":"presence","id":3,"channel":"chat:room"}""");
        var presence = await watcher.ExpectAsync("presence");  // no join came for the anonymous session
        Assert.Single(presence.GetProperty("members").EnumerateArray());
        Assert.Equal(1, presence.GetProperty("anonymous").GetInt32());
    }

    [Fact]
    public async Task PresenceWhereTheNamespaceKeepsNoneIsNotFound()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync("""{"type":"presence","id":3,"channel":"room:x"}""");
        await socket.ExpectErrorAsync("not_found", id: 3);
    }
}
