using System.Net.Http.Json;
using System.Text.Json;
using Broker.FunctionalTests.Grpc;
using Broker.FunctionalTests.Infrastructure;
using Broker.FunctionalTests.Sessions;
using Broker.Sessions;
using Broker.V1;
using Microsoft.AspNetCore.DataProtection;
using Grpc.Core;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Cluster;

/// <summary>
/// The session and ticket stores of a cluster node while its Redis cannot answer (frozen with SIGSTOP, or not started
/// yet): every request that needs them answers <c>unavailable</c> (a WebSocket <c>error</c> and close 1011, HTTP 503
/// with <c>Retry-After</c>, gRPC <c>UNAVAILABLE</c>), is counted in <c>broker.engine.unavailable</c>, the cause is
/// logged once and never at Error, and the node serves again when Redis is back. Each test has a Redis of its own.
/// </summary>
public sealed class RedisSessionOutageTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task WhileRedisIsFrozen_EveryPathThatNeedsTheSessionStore_AnswersUnavailable_AndTheNodeRecovers()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        try
        {
            await using var server = await BrokerServer.StartAsync(Cluster(redis.Configuration,
                // Sweeps every 5 s (a quarter of it): one falls inside the outage.
                ("Broker:Sessions:IdleTimeout", "00:00:20")));
            using var metrics = new ServerMetrics(server);
            using var grpc = new GrpcTestClient(server);
            await server.WaitForReadyzAsync();
            var origin = server.WebAddress.GetLeftPart(UriPartial.Authority);

            // Before the outage: a page with its session cookie, a ticket it has not used yet, and an open socket.
            var cookies = new CookieContainer();
            using var page = server.CreateWebClient(cookies);
            var sessionId = (await ReadJsonAsync(await page.PostAsync("/session", null).WaitAsync(Timeout))).GetProperty("sessionId").GetString();
            var unused = await TicketAsync(page);
            await using var open = await TestSocket.ConnectAsync(server);
            await open.SendJsonAsync(new { type = "hello", id = 1, ticket = await TicketAsync(page) });
            await open.ExpectAsync("welcome");

            redis.Pause();
            try
            {
                await server.WaitForReadyzAsync(HttpStatusCode.ServiceUnavailable);

                // A hello with a ticket, one bound by the cookie, and an anonymous one: each needs the store.
                foreach (var (hello, cookie) in new[] { ($$"""{"type":"hello","id":1,"ticket":"{{unused}}"}""", (CookieContainer?)null), ("""{"type":"hello","id":1}""", cookies), ("""{"type":"hello","id":1}""", null) })
                {
                    await using var socket = await TestSocket.ConnectAsync(server, origin: origin, cookies: cookie);
                    await socket.SendAsync(hello);
                    await socket.ExpectErrorAsync("unavailable", id: 1);
                    // Not 1008: that would tell the client its credentials were refused (broker.js gives up on it).
                    Assert.Equal(1011, await socket.ExpectCloseAsync());
                }

                // HTTP: a new page's POST /session, and the page's POST /tickets.
                using var stranger = server.CreateWebClient(new CookieContainer());
                await AssertUnavailableAsync(await stranger.PostAsync("/session", null).WaitAsync(Timeout));
                await AssertUnavailableAsync(await page.PostAsync("/tickets", null).WaitAsync(Timeout));

                // gRPC IssueTicket, for a new session and naming one.
                foreach (var request in new[] { new IssueTicketRequest { UserId = "bob" }, new IssueTicketRequest { SessionId = sessionId } })
                {
                    var refused = await Assert.ThrowsAsync<RpcException>(() => grpc.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, grpc.Options(), request).ResponseAsync.WaitAsync(Timeout));
                    Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
                }

                // The sweep cannot touch the open socket's session: it ends nothing and tries again.
                await metrics.WaitForSumAsync("broker.engine.unavailable", 1, "session_sweep");
                await open.ExpectAliveAsync();
            }
            finally
            {
                redis.Resume();
            }

            await server.WaitForReadyzAsync();
            Assert.Equal(3, metrics.Sum("broker.engine.unavailable", "hello"));
            Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "session"));
            Assert.Equal(3, metrics.Sum("broker.engine.unavailable", "tickets"));

            // Recovered: the socket that was open lived through it, and the page connects again with a new ticket.
            await open.ExpectAliveAsync();
            await using var again = await TestSocket.ConnectAsync(server);
            await again.SendJsonAsync(new { type = "hello", id = 1, ticket = await TicketAsync(page) });
            Assert.Equal(sessionId, (await again.ExpectAsync("welcome")).GetProperty("sessionId").GetString());

            // The outage is logged once, as what it is; no request logged an error.
            Assert.Single(server.Log.Entries, entry => entry.EventId.Name == "StoreUnreachable");
            Assert.DoesNotContain(server.Log.Entries, entry => entry.Level >= LogLevel.Error);
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task ANodeStartedBeforeItsRedis_AnswersUnavailable_UntilRedisIsUp()
    {
        // Nothing listens on the port yet: the node starts not ready (PROTOCOL.md: /readyz 503).
        var port = RedisServer.FreePort();
        await using var server = await BrokerServer.StartAsync(Cluster($"127.0.0.1:{port}"));
        using var metrics = new ServerMetrics(server);
        using var grpc = new GrpcTestClient(server);
        await server.WaitForReadyzAsync(HttpStatusCode.ServiceUnavailable);

        var refused = await Assert.ThrowsAsync<RpcException>(() => grpc.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, grpc.Options(), new IssueTicketRequest { UserId = "bob" }).ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        await using (var anonymous = await TestSocket.ConnectAsync(server))
        {
            await anonymous.SendAsync("""{"type":"hello","id":7}""");
            await anonymous.ExpectErrorAsync("unavailable", id: 7);
            Assert.Equal(1011, await anonymous.ExpectCloseAsync());
        }

        // A cookie the node cannot judge yet (its key ring is in Redis): unavailable, not a refused cookie. Made under
        // another key ring, so once Redis is up the same cookie is refused for what it is.
        var cookies = new CookieContainer();
        cookies.Add(server.WebAddress, new Cookie(SessionResolver.CookieName,
            new EphemeralDataProtectionProvider().CreateProtector(SessionResolver.ProtectorPurpose).Protect("a-cookie-key"), "/"));
        var origin = server.WebAddress.GetLeftPart(UriPartial.Authority);
        await using (var withCookie = await TestSocket.ConnectAsync(server, origin: origin, cookies: cookies))
        {
            await withCookie.SendAsync("""{"type":"hello","id":8}""");
            await withCookie.ExpectErrorAsync("unavailable", id: 8);
            Assert.Equal(1011, await withCookie.ExpectCloseAsync());
        }

        var redis = new RedisServer { Port = port };
        await redis.InitializeAsync();
        try
        {
            await server.WaitForReadyzAsync();
            var issued = await grpc.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, grpc.Options(), new IssueTicketRequest { UserId = "bob" }).ResponseAsync.WaitAsync(Timeout);
            await using var socket = await TestSocket.ConnectAsync(server);
            await socket.SendJsonAsync(new { type = "hello", id = 1, ticket = issued.Ticket });
            Assert.Equal("bob", (await socket.ExpectAsync("welcome")).GetProperty("userId").GetString());

            // Now the node can judge the cookie: not one of its ring's, so the socket gets an anonymous session of its own.
            await using (var withCookie = await TestSocket.ConnectAsync(server, origin: origin, cookies: cookies))
            {
                await withCookie.SendAsync("""{"type":"hello","id":9}""");
                await withCookie.ExpectAsync("welcome");
            }

            Assert.Contains(server.Log.Entries, entry => entry.EventId.Name == "SessionCookieRejected" && entry.Message.Contains("does not unprotect", StringComparison.Ordinal));

            Assert.Equal(2, metrics.Sum("broker.engine.unavailable", "hello"));
            Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "tickets"));
            // The broker logged no error. ASP.NET Core's Data Protection logs its own (KeyRingProvider, "An error occurred
            // while reading the key ring") when it cannot load the ring at start: that one is not the broker's to tame.
            Assert.DoesNotContain(server.Log.Entries, entry => entry.Level >= LogLevel.Error && entry.Category.StartsWith("Broker", StringComparison.Ordinal));
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheStores_TurnAFrozenRedisIntoSessionStoreUnavailable_OnEveryMember()
    {
        // The stores alone, on a connection whose commands give up after half a second, and with no engine to say
        // Redis is down: what the command timeout gives is translated too (the stores' one place, RedisStoreCalls).
        // Recovery is the node's (the first test): this connection keeps StackExchange.Redis's slow default reconnect.
        var redis = new RedisServer();
        await redis.InitializeAsync();
        try
        {
            await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Configuration + ",asyncTimeout=500,syncTimeout=500").WaitAsync(Timeout);
            var prefix = RedisServer.NewPrefix();
            var sessions = new Broker.Sessions.Redis.RedisSessionStore(connection, prefix, new SessionStoreOptions(), TimeProvider.System);
            var tickets = new Broker.Sessions.Redis.RedisTicketStore(connection, prefix);
            var session = new BrokerSession(SessionIdentifiers.NewSessionId(), null, DateTimeOffset.UtcNow, BrokerSession.NoClaims);
            var entry = new TicketEntry(new TicketGrant(session.SessionId, null, BrokerSession.NoClaims, DateTimeOffset.UtcNow.AddMinutes(1)), null);

            redis.Pause();
            try
            {
                Func<Task>[] members =
                [
                    () => sessions.CreateAsync(session, SessionIdentifiers.NewSecret()).AsTask(),
                    () => sessions.FindByIdAsync(session.SessionId).AsTask(),
                    () => sessions.FindByCookieKeyAsync(SessionIdentifiers.NewSecret()).AsTask(),
                    () => sessions.BindUserAsync(session.SessionId, "bob").AsTask(),
                    () => sessions.TouchAsync(session.SessionId).AsTask(),
                    () => tickets.TryAddAsync("t", entry, TimeSpan.FromMinutes(1)).AsTask(),
                    () => tickets.TryTakeAsync("t").AsTask(),
                    () => Task.Run(() => tickets.TryAdd("t", entry, TimeSpan.FromMinutes(1))),
                    () => Task.Run(() => tickets.TryTake("t")),
                ];
                foreach (var member in members)
                {
                    await Assert.ThrowsAsync<SessionStoreUnavailableException>(member).WaitAsync(Timeout);
                }
            }
            finally
            {
                redis.Resume();
            }
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static Dictionary<string, string?> Cluster(string configuration, params (string Key, string? Value)[] extra) => With(
        [
            ("Broker:Engine", "Redis"),
            ("Broker:Redis:Configuration", configuration),
            ("Broker:Redis:Prefix", RedisServer.NewPrefix()),
            // A command to a frozen Redis gives up after a second (before the engine's probe notices, 3 s).
            ("Broker:Redis:OperationTimeout", "00:00:01"),
            ("Broker:AllowAnonymous", "true"),
            .. extra,
        ]);

    private static async Task<string> TicketAsync(HttpClient page) =>
        (await ReadJsonAsync(await page.PostAsync("/tickets", null).WaitAsync(Timeout))).GetProperty("ticket").GetString()!;

    /// <summary>503, the broker's JSON error body with code <c>unavailable</c>, and a <c>Retry-After</c>.</summary>
    private static async Task AssertUnavailableAsync(HttpResponseMessage reply)
    {
        using (reply)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.StatusCode);
            Assert.NotNull(reply.Headers.RetryAfter?.Delta);
            var body = await reply.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout);
            Assert.Equal("unavailable", body.GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        }
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage reply)
    {
        using (reply)
        {
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
            return await reply.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout);
        }
    }
}
