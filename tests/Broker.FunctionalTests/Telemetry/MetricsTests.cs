using System.Net.WebSockets;
using System.Text;
using Broker.Core;
using Broker.Engines;
using Broker.FunctionalTests.Grpc;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sessions;
using Broker.V1;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Telemetry;

/// <summary>The broker's instruments move when the scenario they measure happens (a MeterListener on one real broker).</summary>
public class MetricsTests
{
    [Fact]
    public async Task ConnectionsChannelsTrafficAndWriteSamplesAreMeasured()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SubscribeAsync("chat:a");
        using var grpc = new GrpcTestClient(server);
        using var subscribe = grpc.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, grpc.Options(), new SubscribeRequest { Channels = { "chat:a" } });
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        var hub = server.Services.GetRequiredService<Hub>();
        for (int i = 0; i < 5; i++)
        {
            await hub.PublishAsync(new PublishCommand("chat:a", "message", Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))), default);
        }

        for (int i = 0; i < 5; i++)
        {
            await socket.SkipToAsync("pub");
            Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        }

        Assert.Equal(1, metrics.Observe("broker.connections", "websocket"));
        Assert.Equal(1, metrics.Observe("broker.connections", "grpc"));
        Assert.True(metrics.Observe("broker.channels") >= 1);
        Assert.True(metrics.Observe("broker.subscriptions") >= 2);
        Assert.True(metrics.Observe("broker.sessions") >= 1);
        Assert.True(metrics.Observe("broker.publications") >= 5);
        Assert.True(metrics.Observe("broker.deliveries") >= 10);
        Assert.True(metrics.Observe("broker.connection.pending_bytes.max") >= 0);
        // Sampled once per writer wake-up, on both transports: at least one sample each.
        Assert.True(metrics.Records("broker.fanout.latency") >= 2);
        Assert.True(metrics.Records("broker.connection.pending_bytes") >= 2);
    }

    [Fact]
    public async Task TicketsRecoveriesClosesAndRefusalsAreCounted()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        var hub = server.Services.GetRequiredService<Hub>();
        var first = await hub.PublishAsync(new PublishCommand("chat:r", "message", "1"u8.ToArray()), default);

        string ticket = await server.IssueTicketAsync("alice");
        await using (var socket = await TestSocket.ConnectAsync(server))
        {
            await socket.SendJsonAsync(new { type = "hello", id = 1, ticket });
            await socket.ExpectAsync("welcome");
            await socket.SubscribeAsync("chat:r", since: new { epoch = first.Position.Epoch, offset = 0 });  // recovered
            await socket.SendJsonAsync(new { type = "subscribe", id = 3, channel = "chat:s", since = new { epoch = "gone", offset = 5 } });  // not recovered
            await socket.SkipToAsync("pub");         // chat:r's replayed publication
            await socket.SkipToAsync("subscribed");  // chat:s
        }

        // The same ticket again: replayed, and the socket is closed.
        await using (var replay = await TestSocket.ConnectAsync(server))
        {
            await replay.SendJsonAsync(new { type = "hello", id = 1, ticket });
            await replay.ExpectCloseAsync();
        }

        var tickets = server.Services.GetRequiredService<TicketService>();
        Assert.False((await tickets.IssueAsync("no-such-session")).Succeeded);

        using var web = server.CreateWebClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await web.GetAsync("/ws")).StatusCode);
        using (var foreign = new ClientWebSocket())
        {
            foreign.Options.SetRequestHeader("Origin", "https://evil.example");
            await Assert.ThrowsAnyAsync<WebSocketException>(() => foreign.ConnectAsync(server.WebSocketAddress, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout));
        }

        Assert.Equal(1, metrics.Sum("broker.tickets", "issued"));
        Assert.Equal(1, metrics.Sum("broker.tickets", "used"));
        Assert.Equal(1, metrics.Sum("broker.tickets", "replayed"));
        Assert.Equal(1, metrics.Sum("broker.tickets", "refused"));
        Assert.Equal(1, metrics.Sum("broker.recoveries", "succeeded"));
        Assert.Equal(1, metrics.Sum("broker.recoveries", "failed"));
        Assert.Equal(1, metrics.Sum("broker.websocket.upgrades.refused", "not_websocket"));
        Assert.Equal(1, metrics.Sum("broker.websocket.upgrades.refused", "origin"));
        Assert.Equal(1, metrics.Sum("broker.websocket.closes", "1000"));
        Assert.True(metrics.Sum("broker.websocket.closes", "1008") + metrics.Sum("broker.websocket.closes", "4003") >= 1);
    }

    [Fact]
    public async Task ASlowSubscriberMovesDropsAndLagged()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("tiny:feed");  // a 4-message DropOldest queue

        // Nothing is read while a burst far bigger than the socket's buffers is published (as LivenessTests).
        await server.FloodAsync("tiny:feed");

        await socket.SkipToAsync("lagged");
        Assert.True(metrics.Sum("broker.messages.dropped", "overflow") >= 1);
        Assert.True(metrics.Sum("broker.lagged") >= 1);
    }

    [Fact]
    public async Task HandlerDurationsAndTimeoutsAreMeasured()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Handlers:Timeout", "00:00:00.200")));
        using var metrics = new ServerMetrics(server);
        using var grpc = new GrpcTestClient(server);
        using var handle = grpc.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, grpc.Options());
        await handle.RequestStream.WriteAsync(new HandlerMessage { Register = new HandlerRegistration { Group = "g", Events = { "chat.*" } } }).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SendAsync("""{"type":"send","id":9,"event":"chat.post","data":1}""");
        await socket.ExpectErrorAsync("timeout", 9);  // the handler never answers

        Assert.Equal(1, metrics.Sum("broker.handler.timeouts"));
        Assert.Equal(1, metrics.Records("broker.handler.duration"));
    }

    [Fact]
    public async Task ADrainingBrokerCountsRefusedUpgrades()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        var drain = server.Services.GetRequiredService<Broker.Lifecycle.DrainState>();
        drain.BeginDrain();
        using (var refused = new ClientWebSocket())
        {
            await Assert.ThrowsAnyAsync<WebSocketException>(() => refused.ConnectAsync(server.WebSocketAddress, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout));
        }

        Assert.Equal(1, metrics.Sum("broker.websocket.upgrades.refused", "draining"));
    }
}
