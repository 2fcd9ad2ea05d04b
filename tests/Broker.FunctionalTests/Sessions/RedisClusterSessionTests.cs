using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sessions.Redis;
using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

/// <summary>
/// Two real brokers (Kestrel on loopback) sharing one private redis-server with <c>Broker:Engine=Redis</c>: a
/// cookie made on one is accepted by the other, and a ticket minted on either is consumed once, on either
/// (PROTOCOL.md, "Running several brokers (cluster)").
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisClusterSessionTests(RedisServer redis)
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task ACookieMadeOnOneBroker_IsAcceptedByAnother_AndATicketIsConsumedOnceOnEither()
    {
        var prefix = RedisServer.NewPrefix();
        await using var a = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        await using var b = await Readiness.StartReadyNodeAsync(Cluster(prefix));

        // The page gets its session and cookie from A …
        var cookiesA = new CookieContainer();
        using var clientA = a.CreateWebClient(cookiesA);
        using var made = await clientA.PostAsync("/session", null).WaitAsync(Timeout);
        var sessionId = (await ReadJsonAsync(made)).GetProperty("sessionId").GetString();
        var cookie = cookiesA.GetCookies(a.WebAddress)[SessionResolver.CookieName]!;

        // … and the load balancer sends its next requests to B: same session, no new cookie.
        var cookiesB = new CookieContainer();
        cookiesB.Add(b.WebAddress, new Cookie(cookie.Name, cookie.Value, "/"));
        using var clientB = b.CreateWebClient(cookiesB);
        using var again = await clientB.PostAsync("/session", null).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(sessionId, (await ReadJsonAsync(again)).GetProperty("sessionId").GetString());
        Assert.False(again.Headers.Contains("Set-Cookie"));

        // A ticket minted on B opens a socket on A, bound to the session; the same ticket on B is refused.
        using var minted = await clientB.PostAsync("/tickets", null).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, minted.StatusCode);
        var ticket = (await ReadJsonAsync(minted)).GetProperty("ticket").GetString();

        await using var onA = await TestSocket.ConnectAsync(a);
        await onA.SendJsonAsync(new { type = "hello", id = 1, ticket });
        Assert.Equal(sessionId, (await onA.ExpectAsync("welcome")).GetProperty("sessionId").GetString());

        await using var onB = await TestSocket.ConnectAsync(b);
        await onB.SendJsonAsync(new { type = "hello", id = 1, ticket });
        await onB.ExpectErrorAsync("unauthorized", id: 1);
    }

    [Fact]
    public async Task ASessionMadeOverGrpcOnOneBroker_IsKnownToTheOther_WithItsUser()
    {
        var prefix = RedisServer.NewPrefix();
        await using var a = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        await using var b = await Readiness.StartReadyNodeAsync(Cluster(prefix));

        // IssueTicket with no session on A makes one for bob; IssueTicket naming it on B finds it.
        var first = await a.Services.GetRequiredService<TicketService>().IssueAsync(sessionId: null, userId: "bob").AsTask().WaitAsync(Timeout);
        Assert.True(first.Succeeded);
        var second = await b.Services.GetRequiredService<TicketService>().IssueAsync(first.Session.SessionId).AsTask().WaitAsync(Timeout);

        Assert.True(second.Succeeded, second.ToString());
        Assert.Equal("bob", second.Session.UserId);
        await using var socket = await TestSocket.ConnectAsync(a);
        await socket.SendJsonAsync(new { type = "hello", id = 1, ticket = second.Ticket });
        Assert.Equal("bob", (await socket.ExpectAsync("welcome")).GetProperty("userId").GetString());
    }

    [Fact]
    public async Task WithEngineRedis_TheStoresAndTheKeyRingAreInRedis_AndNoSecretIsInClear()
    {
        var prefix = RedisServer.NewPrefix();
        await using var server = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        Assert.IsType<RedisSessionStore>(server.Services.GetRequiredService<ISessionStore>());
        Assert.IsType<RedisTicketStore>(server.Services.GetRequiredService<ITicketStore>());

        var cookies = new CookieContainer();
        using var client = server.CreateWebClient(cookies);
        using var made = await client.PostAsync("/session", null).WaitAsync(Timeout);
        using var minted = await client.PostAsync("/tickets", null).WaitAsync(Timeout);
        var ticket = (await ReadJsonAsync(minted)).GetProperty("ticket").GetString()!;

        var dump = await redis.DumpAsync(prefix).WaitAsync(Timeout);
        Assert.Contains($"{prefix}:data-protection:keys = ", dump, StringComparison.Ordinal);
        Assert.DoesNotContain(ticket, dump, StringComparison.Ordinal);
        Assert.DoesNotContain(cookies.GetCookies(server.WebAddress)[SessionResolver.CookieName]!.Value, dump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyPrefix_StopsTheBrokerAtStart_NamingTheSetting()
    {
        var settings = Cluster(RedisServer.NewPrefix());
        settings["Broker:Redis:Prefix"] = "";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BrokerServer.StartAsync(settings)).WaitAsync(Timeout);

        Assert.Contains("Broker:Redis:Prefix", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutEngineRedis_TheStoresStayInMemory()
    {
        await using var server = await BrokerServer.StartAsync();

        Assert.IsType<InMemorySessionStore>(server.Services.GetRequiredService<ISessionStore>());
        Assert.IsType<InMemoryTicketStore>(server.Services.GetRequiredService<ITicketStore>());
    }

    [Fact]
    public async Task ASessionWithSocketsOnTwoNodes_StaysInUsePastItsIdleTimeout_AndEndsOnBothAtItsLifetime()
    {
        var prefix = RedisServer.NewPrefix();
        var settings = Cluster(prefix);
        settings["Broker:Sessions:IdleTimeout"] = "00:00:02";
        settings["Broker:Sessions:Lifetime"] = "00:00:05";
        await using var a = await Readiness.StartReadyNodeAsync(settings);
        await using var b = await Readiness.StartReadyNodeAsync(settings);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var first = await a.Services.GetRequiredService<TicketService>().IssueAsync(sessionId: null, userId: "bob").AsTask().WaitAsync(Timeout);
        var second = await b.Services.GetRequiredService<TicketService>().IssueAsync(first.Session!.SessionId).AsTask().WaitAsync(Timeout);
        await using var onA = await TestSocket.ConnectAsync(a);
        await onA.SendJsonAsync(new { type = "hello", id = 1, ticket = first.Ticket });
        await onA.ExpectAsync("welcome");
        await using var onB = await TestSocket.ConnectAsync(b);
        await onB.SendJsonAsync(new { type = "hello", id = 1, ticket = second.Ticket });
        await onB.ExpectAsync("welcome");

        foreach (var socket in new[] { onA, onB })
        {
            var disconnect = await socket.SkipToAsync("disconnect");
            Assert.Equal(4003, disconnect.GetProperty("code").GetInt32());
            Assert.Equal(4003, await socket.ExpectCloseAsync());
        }

        // Each node's sweep kept the session in use past the idle timeout (2 s): it ended at its lifetime (5 s).
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(5), $"ended after {clock.Elapsed}");
        Assert.DoesNotContain($"{prefix}:sessions:id:{first.Session.SessionId}", await redis.DumpAsync(prefix).WaitAsync(Timeout), StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Cluster(string prefix) => new()
    {
        ["Broker:Engine"] = "Redis",
        ["Broker:Redis:Configuration"] = redis.Configuration,
        ["Broker:Redis:Prefix"] = prefix,
    };

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage reply)
    {
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        var text = await reply.Content.ReadAsStringAsync().WaitAsync(Timeout);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
