using Microsoft.AspNetCore.Hosting;
using System.Text;
using Broker.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// Abuse of the HTTP side of <c>/ws</c>: upgrades that never say hello, upgrade requests sent slowly or never
/// finished. Each is bounded (a timeout ends it), answered, and costs nothing once it is over.
/// </summary>
public sealed class HttpAbuseTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task ThousandUpgradesThatNeverSayHello_AreClosedByTheHelloTimeout_AndGiveTheirPlacesBack()
    {
        // Two waves of 500 silent sockets against a limit of 501 connections (the watcher takes one): the second
        // wave gets in only if every place of the first was given back.
        const int wave = 500;
        await using var server = await BrokerServer.StartAsync(With(
            ("Broker:WebSocket:HelloTimeout", "00:00:01"),
            ("Broker:WebSocket:MaxConnections", (wave + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Broker:WebSocket:MaxConnectionsPerIp", "100000")));
        using var metrics = new ServerMetrics(server);
        await using var watcher = await server.ConnectSocketAsync("watcher");
        await watcher.SubscribeAsync("room:w");

        for (int round = 0; round < 2; round++)
        {
            var silent = await ConnectManyAsync(server, wave);
            var codes = await Task.WhenAll(silent.Select(static async s =>
            {
                var code = await s.ExpectCloseAsync();
                await s.SendCloseAsync(1000);  // complete the handshake, as a client would
                return code;
            }));
            Assert.All(codes, static code => Assert.Equal(1008, code));
            foreach (var socket in silent)
            {
                Assert.True(await socket.EndsWithinAsync(Timeout), "the server kept a closed socket's connection");
                await socket.DisposeAsync();
            }

            // The well-behaved client on the same node is served throughout.
            await server.FloodAsync("room:w", count: 1, payloadBytes: 10);
            await watcher.ExpectAsync("pub");

            if (round == 0)
            {
                // The places come back when each socket's connection has ended on the server: retry, bounded.
                await WaitUntilAcceptedAsync(server);
            }
        }

        await metrics.WaitForSumAsync("broker.websocket.closes", 2 * wave, "1008").WaitAsync(Timeout);
        Assert.True(server.Log.Entries.Count(static e => e.EventId.Name == "ProtocolViolation") <= 2, "hello timeouts were logged per socket");
        Assert.DoesNotContain(server.Log.Entries, static e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task ASlowButCompleteUpgrade_IsServed()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await RawWebSocket.OpenAsync(server);
        var request = socket.UpgradeRequest(server);
        for (int at = 0; at < request.Length; at += 16)
        {
            await socket.WriteRawAsync(request.AsMemory(at, Math.Min(16, request.Length - at)));
            await Task.Delay(20);  // pacing the sender, not waiting for the server
        }

        Assert.StartsWith("HTTP/1.1 101", await socket.ReadResponseHeadAsync(), StringComparison.Ordinal);
        await socket.SendTextAsync($$"""{"type":"hello","id":1,"ticket":"{{await server.IssueTicketAsync("alice")}}"}""");
        await socket.ReadUntilAsync("welcome");
    }

    [Fact]
    public async Task UpgradesThatNeverFinishTheirHeaders_AreDroppedAtTheRequestHeadersTimeout_WhileOthersAreServed()
    {
        // Kestrel's own guard against slowloris (KestrelServerLimits.RequestHeadersTimeout, 30 s by default), here
        // 2 s. Set in code: configuration does not bind Kestrel's limits (docs/protocol.md, "Limits and hardening").
        await using var server = await BrokerServer.StartAsync(With(), configure: static builder =>
            builder.WebHost.ConfigureKestrel(static kestrel => kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2)));
        var stalled = new List<RawWebSocket>();
        for (int i = 0; i < 50; i++)
        {
            var socket = await RawWebSocket.OpenAsync(server);
            var request = socket.UpgradeRequest(server);
            await socket.WriteRawAsync(request.AsMemory(0, request.Length / 2));
            stalled.Add(socket);
        }

        await using (var served = await server.ConnectSocketAsync())
        {
            await served.ExpectAliveAsync();
        }

        foreach (var socket in stalled)
        {
            Assert.True(await socket.EndsWithinAsync(Timeout), "a stalled upgrade request was kept open");
            await socket.DisposeAsync();
        }
    }

    private static async Task<List<RawWebSocket>> ConnectManyAsync(BrokerServer server, int count)
    {
        var sockets = new List<RawWebSocket>(count);
        // Fifty at a time: many at once, without a connect storm a shared 2-core machine would time out on.
        for (int start = 0; start < count; start += 50)
        {
            sockets.AddRange(await Task.WhenAll(Enumerable.Range(start, Math.Min(50, count - start)).Select(i => RawWebSocket.ConnectAsync(server, i))));
        }

        return sockets;
    }

    private static async Task WaitUntilAcceptedAsync(BrokerServer server)
    {
        // Fill every place: only when all 500 have been given back do 500 more fit beside the watcher.
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            await using var probe = await RawWebSocket.OpenAsync(server);
            await probe.WriteRawAsync(probe.UpgradeRequest(server));
            var status = await probe.ReadResponseHeadAsync();
            if (status.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                Assert.StartsWith("HTTP/1.1 101", status, StringComparison.Ordinal);
                return;
            }

            await Task.Delay(50);
        }
    }
}
