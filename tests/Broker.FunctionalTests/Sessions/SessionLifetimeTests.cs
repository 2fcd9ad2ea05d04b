using System.Diagnostics;
using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

/// <summary>Sessions end (idle timeout, lifetime) and are bounded in number, over real HTTP and real sockets.</summary>
public sealed class SessionLifetimeTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task AConnectedSession_OutlivesItsIdleTimeout_AndItsSocketsGetDisconnectAnd4003AtItsLifetime()
    {
        // Sweep every 500 ms (a quarter of the idle timeout): without the sweep's touches the session would be
        // gone after two seconds; with them it lives to its lifetime, five seconds. (An idle timeout of one second
        // left too little room on a loaded machine: a sweep delayed past it let the session go idle.)
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?>
        {
            ["Broker:Sessions:IdleTimeout"] = "00:00:02",
            ["Broker:Sessions:Lifetime"] = "00:00:05",
        });
        using var metrics = new ServerMetrics(server);
        var clock = Stopwatch.StartNew();
        var issued = await server.Services.GetRequiredService<TicketService>().IssueAsync(null, "alice").AsTask().WaitAsync(Timeout);
        var sessionId = issued.Session!.SessionId;
        await using var first = await TestSocket.ConnectAsync(server);
        await first.SendJsonAsync(new { type = "hello", id = 1, ticket = issued.Ticket });
        await first.ExpectAsync("welcome");
        var second = await server.IssueTicketAsync(sessionId: sessionId);
        await using var tab = await TestSocket.ConnectAsync(server);
        await tab.SendJsonAsync(new { type = "hello", id = 1, ticket = second });
        await tab.ExpectAsync("welcome");

        foreach (var socket in new[] { first, tab })
        {
            var disconnect = await socket.SkipToAsync("disconnect");
            Assert.Equal(4003, disconnect.GetProperty("code").GetInt32());
            Assert.False(disconnect.GetProperty("reconnect").GetBoolean());
            Assert.Equal(4003, await socket.ExpectCloseAsync());
        }

        // Never before the lifetime: the session was made after the clock started.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(5), $"ended after {clock.Elapsed}");
        Assert.Null(await server.Services.GetRequiredService<ISessionStore>().FindByIdAsync(sessionId).AsTask().WaitAsync(Timeout));
        await metrics.WaitForSumAsync("broker.websocket.closes", 2, "4003").WaitAsync(Timeout);
    }

    [Fact]
    public async Task PostSessionInALoop_IsRefusedWith503OnceTheStoreIsFull_CountedEachTime_LoggedOnce()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Sessions:MaxCount"] = "5" });
        using var metrics = new ServerMetrics(server);
        // No cookie container: every request is a new browser, as a loop that keeps no cookie is.
        using var client = server.CreateWebClient();

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 25; i++)
        {
            using var reply = await client.PostAsync("/session", null).WaitAsync(Timeout);
            statuses.Add(reply.StatusCode);
            if (reply.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var body = JsonDocument.Parse(await reply.Content.ReadAsStringAsync().WaitAsync(Timeout)).RootElement;
                Assert.Equal("limit_exceeded", body.GetProperty("code").GetString());
                Assert.NotNull(reply.Headers.RetryAfter);
                Assert.False(reply.Headers.Contains("Set-Cookie"));
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5).Concat(Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 20)), statuses);
        Assert.Equal(5, server.Services.GetRequiredService<ISessionStore>().Count);
        Assert.Equal(20, metrics.Sum("broker.limits.refused", "sessions"));
        Assert.Single(server.Log.Entries, static e => e.EventId.Name == "SessionLimitReached");
    }

    [Fact]
    public async Task AnAnonymousHello_WhenTheStoreIsFull_GetsLimitExceededAndClose1008()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?>
        {
            ["Broker:AllowAnonymous"] = "true",
            ["Broker:Sessions:MaxCount"] = "1",
        });
        await using var first = await TestSocket.ConnectAsync(server);
        await first.SendJsonAsync(new { type = "hello", id = 1 });
        await first.ExpectAsync("welcome");

        await using var second = await TestSocket.ConnectAsync(server);
        await second.SendJsonAsync(new { type = "hello", id = 1 });
        await second.ExpectErrorAsync("limit_exceeded", 1);
        Assert.Equal(1008, await second.ExpectCloseAsync());
        await first.ExpectAliveAsync();
    }
    [Fact]
    public async Task PostTicketsInALoop_IsRefusedWith503OnceTheTicketStoreIsFull()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Tickets:MaxOutstanding"] = "3" });
        using var metrics = new ServerMetrics(server);
        using var client = server.CreateWebClient(new CookieContainer());
        using (var made = await client.PostAsync("/session", null).WaitAsync(Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        }

        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 6; i++)
        {
            using var reply = await client.PostAsync("/tickets", null).WaitAsync(Timeout);
            statuses.Add(reply.StatusCode);
            if (reply.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var body = JsonDocument.Parse(await reply.Content.ReadAsStringAsync().WaitAsync(Timeout)).RootElement;
                Assert.Equal("limit_exceeded", body.GetProperty("code").GetString());
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 3).Concat(Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 3)), statuses);
        Assert.Equal(3, metrics.Sum("broker.limits.refused", "tickets"));
    }
}
