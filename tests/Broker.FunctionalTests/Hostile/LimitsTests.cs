using System.Net.WebSockets;
using Broker.Core;
using Broker.FunctionalTests.Infrastructure;
using Broker.Testing;
using Microsoft.Extensions.Logging;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The limits a public broker needs (README, "Limits and hardening"): each refusal is what the client is told,
/// counted in <c>broker.limits.refused</c>, and logged once per cause rather than per attempt.
/// </summary>
public sealed class LimitsTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Theory]
    [InlineData("Broker:WebSocket:MaxConnections", "connections")]
    [InlineData("Broker:WebSocket:MaxConnectionsPerIp", "connections_per_ip")]
    public async Task AnUpgradeOverAConnectionLimit_Gets503WithRetryAfter_AndAClosedSocketFreesItsPlace(string key, string limit)
    {
        // Sockets that have not said hello count too: the hello timeout is long so they stay.
        await using var server = await BrokerServer.StartAsync(With((key, "3"), ("Broker:WebSocket:HelloTimeout", "00:01:00")));
        using var metrics = new ServerMetrics(server);
        var open = new List<TestSocket>();
        for (int i = 0; i < 3; i++)
        {
            open.Add(await TestSocket.ConnectAsync(server));
        }

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await RefusedUpgradeAsync(server));
        }

        Assert.Equal(5, metrics.Sum("broker.limits.refused", limit));
        Assert.Single(server.Log.Entries, static e => e.EventId.Name == "LimitReached");

        // A socket that closes gives its place back; there is no signal for "released", so retry, bounded.
        await open[0].DisposeAsync();
        var deadline = DateTime.UtcNow + Timeout;
        TestSocket? again = null;
        while (again is null)
        {
            try
            {
                again = await TestSocket.ConnectAsync(server);
            }
            catch (WebSocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }

        await again.SendJsonAsync(new { type = "hello", id = 1, ticket = await server.IssueTicketAsync("alice") });
        await again.ExpectAsync("welcome");
        await again.DisposeAsync();
        foreach (var socket in open.Skip(1))
        {
            await socket.DisposeAsync();
        }
    }

    [Fact]
    public async Task TicketGuessing_IsAnsweredEachTime_ThenBlockedPerAddress_AndLoggedOncePerCause()
    {
        var time = new ManualTimeProvider();
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:MaxFailedHellosPerIp", "5")), time);
        using var metrics = new ServerMetrics(server);

        // Five guesses: each answered unauthorized and closed 1008.
        for (int i = 0; i < 5; i++)
        {
            await using var guess = await TestSocket.ConnectAsync(server);
            await guess.SendJsonAsync(new { type = "hello", id = 1, ticket = Broker.Sessions.SessionIdentifiers.NewSecret() });
            await guess.ExpectErrorAsync("unauthorized", 1);
            Assert.Equal(1008, await guess.ExpectCloseAsync());
        }

        // The address is blocked for the minute: even a good ticket is refused before it is looked at (so not burnt).
        var ticket = await server.IssueTicketAsync("alice");
        for (int i = 0; i < 10; i++)
        {
            await using var blocked = await TestSocket.ConnectAsync(server);
            await blocked.SendJsonAsync(new { type = "hello", id = 2, ticket });
            await blocked.ExpectErrorAsync("rate_limited", 2);
            Assert.Equal(1008, await blocked.ExpectCloseAsync());
        }

        Assert.Equal(10, metrics.Sum("broker.limits.refused", "failed_hellos"));
        Assert.Equal(5, metrics.Sum("broker.tickets", "replayed"));
        // Logged once per cause: one hello refusal, one ticket rejection, one block, for fifteen refused hellos.
        Assert.Single(server.Log.Entries, static e => e.EventId.Name == "HelloRefused");
        Assert.Single(server.Log.Entries, static e => e.EventId.Name == "TicketRejected");
        Assert.Single(server.Log.Entries, static e => e.EventId.Name == "FailedHellosBlocked");
        Assert.DoesNotContain(server.Log.Entries, static e => e.Level >= LogLevel.Error);

        // A minute later the address is forgiven, and the ticket it could not use is still good.
        time.Advance(TimeSpan.FromSeconds(61));
        var late = await server.IssueTicketAsync("alice");
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(new { type = "hello", id = 3, ticket = late });
        await socket.ExpectAsync("welcome");
    }

    [Fact]
    public async Task HellosWithoutCredentials_DoNotCountAsGuesses()
    {
        // After a restart every page behind an office's NAT says hello with a cookie the broker forgot: that
        // must not lock the office out.
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:MaxFailedHellosPerIp", "2")));
        for (int i = 0; i < 5; i++)
        {
            await using var socket = await TestSocket.ConnectAsync(server);
            await socket.SendJsonAsync(new { type = "hello", id = 1 });
            await socket.ExpectErrorAsync("unauthorized", 1);
            Assert.Equal(1008, await socket.ExpectCloseAsync());
        }

        await using var good = await server.ConnectSocketAsync();
        await good.ExpectAliveAsync();
    }

    [Fact]
    public async Task FullNodeQueues_RefusePublishAndSubscribeWithUnavailable_UntilTheSlowSubscriberGoes()
    {
        // The smallest ceiling (1 MiB), and a subscriber whose own queue could take a gigabyte: only the node's
        // ceiling stands between a reader that stopped and the process's memory.
        await using var server = await BrokerServer.StartAsync(With(("Broker:MaxQueuedBytes", "1048576")));
        using var metrics = new ServerMetrics(server);
        var node = server.Services.GetRequiredService<BrokerNode>();
        var slow = await server.ConnectSocketAsync();
        await slow.SubscribeAsync("big:flood");
        await using var publisher = await server.ConnectSocketAsync("bob");

        // The slow socket reads nothing from here: its writer blocks once the socket buffers are full.
        await server.FloodAsync("big:flood");
        Assert.True(node.Queues.IsExhausted, $"queued {node.Queues.Bytes} bytes of {node.Queues.Limit}");

        await publisher.SendJsonAsync(new { type = "publish", id = 7, channel = "room:x", data = 1 });
        Assert.Contains("full", (await publisher.ExpectErrorAsync("unavailable", 7)).GetProperty("message").GetString(), StringComparison.Ordinal);
        await publisher.SendJsonAsync(new { type = "subscribe", id = 8, channel = "room:y" });
        await publisher.ExpectErrorAsync("unavailable", 8);
        await publisher.ExpectAliveAsync();
        Assert.Equal(2, metrics.Sum("broker.limits.refused", "queued_bytes"));

        // The slow socket goes: its queue is discarded (counted as dropped) and the node takes new work again.
        slow.Raw.Abort();
        await metrics.WaitForSumAsync("broker.messages.dropped", 1, "closed").WaitAsync(Timeout);
        Assert.Equal(0, node.Queues.Bytes);
        Assert.Equal(7, (await publisher.PublishAsync("room:x", 2, id: 7)).GetProperty("id").GetInt64());
        Assert.DoesNotContain(server.Log.Entries, static e => e.Level >= LogLevel.Error);
        slow.Raw.Dispose();
    }

    private static async Task<HttpStatusCode?> RefusedUpgradeAsync(BrokerServer server)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(server.WebSocketAddress, CancellationToken.None).WaitAsync(Timeout);
        }
        catch (WebSocketException)
        {
            Assert.True(socket.HttpResponseHeaders?.ContainsKey("Retry-After"), "no Retry-After");
            return socket.HttpStatusCode;
        }

        return null;
    }
}
