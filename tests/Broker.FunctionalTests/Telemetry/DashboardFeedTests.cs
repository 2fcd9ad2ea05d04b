using Broker.Core;
using Broker.FunctionalTests.Grpc;
using Broker.FunctionalTests.Infrastructure;
using Grpc.Core;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Telemetry;

/// <summary>The dashboard's feed, <c>$broker:stats</c>: a snapshot a second with history, readable by browsers only when enabled, written by the broker alone.</summary>
public class DashboardFeedTests
{
    [Fact]
    public async Task WhenEnabledABrowserGetsStatsSnapshotsAndTheirHistory()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Dashboard:Enabled", "true")));
        await using var socket = await server.ConnectSocketAsync(userId: null);
        await socket.SubscribeAsync(ChannelNames.BrokerStats);
        var snapshot = await socket.SkipToAsync("pub");
        Assert.Equal("stats", snapshot.GetProperty("event").GetString());
        Assert.True(snapshot.GetProperty("data").GetProperty("connections").GetProperty("websocket").GetInt32() >= 1);

        await socket.SendJsonAsync(new { type = "history", id = 7, channel = ChannelNames.BrokerStats, limit = 300 });
        var history = await socket.SkipToAsync("history");
        Assert.True(history.GetProperty("publications").GetArrayLength() >= 1);

        await socket.SendJsonAsync(new { type = "publish", id = 8, channel = ChannelNames.BrokerStats, data = 1 });
        await socket.SkipToAsync("error");
        using var grpc = new GrpcTestClient(server);
        var refused = await Assert.ThrowsAsync<RpcException>(() => grpc.PublishAsync(ChannelNames.BrokerStats, "1"));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }

    [Fact]
    public async Task WhenDisabledBrowsersMayNotSubscribe()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Dashboard:Enabled", "false")));
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendJsonAsync(new { type = "subscribe", id = 2, channel = ChannelNames.BrokerStats });
        await socket.ExpectErrorAsync("forbidden", 2);
    }
}
