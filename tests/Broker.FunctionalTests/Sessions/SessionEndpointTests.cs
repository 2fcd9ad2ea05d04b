using System.Net.Http.Json;
using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Broker.FunctionalTests.Sessions;

/// <summary>POST /session and POST /tickets over real HTTP against the real broker.</summary>
public sealed class SessionEndpointTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task PostSession_SetsHttpOnlyLaxCookieThatIsNotTheSessionId_AndReturnsTheSameSessionTwice()
    {
        await using var server = await BrokerServer.StartAsync();
        var cookies = new CookieContainer();
        using var client = server.CreateWebClient(cookies);

        using var first = await client.PostAsync("/session", null).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var firstBody = await ReadJsonAsync(first);
        var sessionId = firstBody.GetProperty("sessionId").GetString();
        Assert.NotNull(sessionId);
        Assert.Matches("^[A-Za-z0-9_-]{22,}$", sessionId);
        Assert.Equal(JsonValueKind.Null, firstBody.GetProperty("userId").ValueKind);

        var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(SessionResolver.CookieName + "=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        // Plain HTTP: a Secure cookie would never come back.
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase);

        var cookie = SessionCookie(cookies, server);
        Assert.NotEqual(sessionId, cookie.Value);
        Assert.DoesNotContain(sessionId, cookie.Value, StringComparison.Ordinal);
        Assert.True(cookie.HttpOnly);

        using var second = await client.PostAsync("/session", null).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(sessionId, (await ReadJsonAsync(second)).GetProperty("sessionId").GetString());
        // The session already has its cookie: no second Set-Cookie.
        Assert.False(second.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task PostSession_FromAForeignOrigin_Is403()
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = server.CreateWebClient(new CookieContainer());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/session");
        request.Headers.Add("Origin", "https://evil.example");
        using var reply = await client.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Forbidden, reply.StatusCode);
        Assert.False(reply.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task PostTickets_WithoutASessionCookie_Is401()
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = server.CreateWebClient(new CookieContainer());

        using var reply = await client.PostAsync("/tickets", null).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, reply.StatusCode);
    }

    [Fact]
    public async Task PostTickets_FromAForeignOrigin_Is403()
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = await ClientWithSessionAsync(server);

        using var reply = await PostTicketsAsync(client, ("Origin", "https://evil.example"));

        Assert.Equal(HttpStatusCode.Forbidden, reply.StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1")] // same host, other port: another origin
    [InlineData("https://127.0.0.1")] // same host, other scheme
    [InlineData("null")] // an opaque origin (sandboxed iframe, file://)
    public async Task PostTickets_FromANearMissOrigin_Is403(string origin)
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = await ClientWithSessionAsync(server);

        using var reply = await PostTicketsAsync(client, ("Origin", origin));

        Assert.Equal(HttpStatusCode.Forbidden, reply.StatusCode);
    }

    [Fact]
    public async Task PostTickets_WithSecFetchSiteCrossSite_Is403()
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = await ClientWithSessionAsync(server);

        using var reply = await PostTicketsAsync(client, ("Sec-Fetch-Site", "cross-site"));

        Assert.Equal(HttpStatusCode.Forbidden, reply.StatusCode);
    }

    [Fact]
    public async Task PostTickets_FromTheBrokersOwnOrigin_Is200()
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = await ClientWithSessionAsync(server);

        using var reply = await PostTicketsAsync(client,
            ("Origin", server.WebAddress.GetLeftPart(UriPartial.Authority)), ("Sec-Fetch-Site", "same-origin"));

        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
    }

    [Fact]
    public async Task PostTickets_FromAnAllowedOrigin_Is200_AndTheListReplacesTheDefault()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?>
        {
            ["Broker:AllowedOrigins:0"] = "https://app.example",
            ["Broker:AllowedOrigins:1"] = "http://localhost:5173/",
        });
        using var client = await ClientWithSessionAsync(server, origin: "https://app.example");

        using var allowed = await PostTicketsAsync(client, ("Origin", "https://APP.example:443"), ("Sec-Fetch-Site", "same-site"));
        using var alsoAllowed = await PostTicketsAsync(client, ("Origin", "http://localhost:5173"));
        using var own = await PostTicketsAsync(client, ("Origin", server.WebAddress.GetLeftPart(UriPartial.Authority)));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alsoAllowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
    }

    [Fact]
    public async Task PostTickets_RepliesWithATicketAndExpiry_NotToBeCached()
    {
        await using var server = await BrokerServer.StartAsync();
        using var client = await ClientWithSessionAsync(server);
        var before = DateTimeOffset.UtcNow;

        using var reply = await PostTicketsAsync(client);

        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("application/json", reply.Content.Headers.ContentType?.MediaType);
        Assert.True(reply.Headers.CacheControl?.NoStore, "Cache-Control: no-store");
        var body = await ReadJsonAsync(reply);
        Assert.Equal(["expiresAt", "ticket"], body.EnumerateObject().Select(static p => p.Name).Order(StringComparer.Ordinal));
        Assert.Matches("^[A-Za-z0-9_-]{43}$", body.GetProperty("ticket").GetString());
        var expiresAtText = body.GetProperty("expiresAt").GetString()!;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", expiresAtText);
        var expiresAt = DateTimeOffset.Parse(expiresAtText, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expiresAt, before.AddSeconds(29), DateTimeOffset.UtcNow.AddSeconds(31));
    }

    [Fact]
    public async Task PostTickets_MintsATicketThatGrantsTheCookiesSession_BoundToTheCallersIp()
    {
        await using var server = await BrokerServer.StartAsync();
        var cookies = new CookieContainer();
        using var client = server.CreateWebClient(cookies);
        using var session = await client.PostAsync("/session", null).WaitAsync(Timeout);
        var sessionId = (await ReadJsonAsync(session)).GetProperty("sessionId").GetString();

        using var first = await PostTicketsAsync(client);
        using var second = await PostTicketsAsync(client);
        var ticket = (await ReadJsonAsync(first)).GetProperty("ticket").GetString();
        var otherTicket = (await ReadJsonAsync(second)).GetProperty("ticket").GetString();

        var tickets = server.Services.GetRequiredService<TicketService>();
        Assert.False(tickets.TryConsume(otherTicket, IPAddress.Parse("192.0.2.7"), out _));
        Assert.True(tickets.TryConsume(ticket, IPAddress.Loopback, out var grant));
        Assert.Equal(sessionId, grant.SessionId);
        Assert.Null(grant.UserId);
        Assert.False(tickets.TryConsume(ticket, IPAddress.Loopback, out _));
    }

    [Fact]
    public async Task PostTickets_WithBindToIpOff_MintsAnUnboundTicket()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Tickets:BindToIp"] = "false" });
        using var client = await ClientWithSessionAsync(server);

        using var reply = await PostTicketsAsync(client);
        var ticket = (await ReadJsonAsync(reply)).GetProperty("ticket").GetString();

        Assert.True(server.Services.GetRequiredService<TicketService>().TryConsume(ticket, IPAddress.Parse("192.0.2.7"), out _));
    }

    [Fact]
    public async Task ATamperedCookie_IsNotAccepted()
    {
        await using var server = await BrokerServer.StartAsync();
        var cookies = new CookieContainer();
        using var honest = server.CreateWebClient(cookies);
        using var made = await honest.PostAsync("/session", null).WaitAsync(Timeout);
        var sessionId = (await ReadJsonAsync(made)).GetProperty("sessionId").GetString();
        var value = SessionCookie(cookies, server).Value;

        // Flip one character in the middle of the protected payload, and try a forged value outright.
        var middle = value.Length / 2;
        var tampered = value[..middle] + (value[middle] == 'A' ? 'B' : 'A') + value[(middle + 1)..];
        foreach (var forged in new[] { tampered, sessionId!, "not-a-cookie", value + "A" })
        {
            using var client = server.CreateWebClient();
            using var tickets = new HttpRequestMessage(HttpMethod.Post, "/tickets");
            tickets.Headers.Add("Cookie", $"{SessionResolver.CookieName}={forged}");
            using var ticketReply = await client.SendAsync(tickets).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.Unauthorized, ticketReply.StatusCode);

            using var session = new HttpRequestMessage(HttpMethod.Post, "/session");
            session.Headers.Add("Cookie", $"{SessionResolver.CookieName}={forged}");
            using var sessionReply = await client.SendAsync(session).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.OK, sessionReply.StatusCode);
            Assert.NotEqual(sessionId, (await ReadJsonAsync(sessionReply)).GetProperty("sessionId").GetString());
        }

        Assert.Contains(server.Log.Entries, static e => e.EventId.Name == "SessionCookieRejected");
    }

    [Fact]
    public async Task ACookieWhoseSessionTheStoreForgot_Is401ForTickets_AndPostSessionMakesANewOne()
    {
        // Two brokers sharing one key ring model a restart with persisted keys: the cookie still unprotects,
        // but the in-memory store of the new process has never heard of its session.
        var keys = new EphemeralDataProtectionProvider();
        void ShareKeys(WebApplicationBuilder builder) => builder.Services.AddSingleton<IDataProtectionProvider>(keys);
        var cookies = new CookieContainer();
        string? oldSessionId;
        string cookieValue;
        await using (var before = await BrokerServer.StartAsync(configure: ShareKeys))
        {
            using var client = before.CreateWebClient(cookies);
            using var made = await client.PostAsync("/session", null).WaitAsync(Timeout);
            oldSessionId = (await ReadJsonAsync(made)).GetProperty("sessionId").GetString();
            cookieValue = SessionCookie(cookies, before).Value;
        }

        await using var after = await BrokerServer.StartAsync(configure: ShareKeys);
        using var stale = after.CreateWebClient();
        using var tickets = new HttpRequestMessage(HttpMethod.Post, "/tickets");
        tickets.Headers.Add("Cookie", $"{SessionResolver.CookieName}={cookieValue}");
        using var ticketReply = await stale.SendAsync(tickets).WaitAsync(Timeout);
        using var session = new HttpRequestMessage(HttpMethod.Post, "/session");
        session.Headers.Add("Cookie", $"{SessionResolver.CookieName}={cookieValue}");
        using var sessionReply = await stale.SendAsync(session).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, ticketReply.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sessionReply.StatusCode);
        Assert.NotEqual(oldSessionId, (await ReadJsonAsync(sessionReply)).GetProperty("sessionId").GetString());
        Assert.True(sessionReply.Headers.Contains("Set-Cookie"));
        Assert.Contains(after.Log.Entries, static e => e.EventId.Name == "SessionCookieRejected" && e.Message.Contains("no longer known", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATicketFromPostTickets_ExpiresOnTheBrokersClock()
    {
        var clock = new ManualTimeProvider();
        await using var server = await BrokerServer.StartAsync(timeProvider: clock);
        using var client = await ClientWithSessionAsync(server);
        using var first = await PostTicketsAsync(client);
        using var second = await PostTicketsAsync(client);
        var fresh = (await ReadJsonAsync(first)).GetProperty("ticket").GetString();
        var stale = (await ReadJsonAsync(second)).GetProperty("ticket").GetString();
        var tickets = server.Services.GetRequiredService<TicketService>();

        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.True(tickets.TryConsume(fresh, IPAddress.Loopback, out _));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(tickets.TryConsume(stale, IPAddress.Loopback, out _));
    }

    [Fact]
    public async Task NoTicketOrCookieEverReachesTheLog()
    {
        await using var server = await BrokerServer.StartAsync();
        var cookies = new CookieContainer();
        using var client = await ClientWithSessionAsync(server, cookies: cookies);
        using var reply = await PostTicketsAsync(client);
        var ticket = (await ReadJsonAsync(reply)).GetProperty("ticket").GetString()!;
        using var refused = await PostTicketsAsync(client, ("Origin", "https://evil.example"));
        var tickets = server.Services.GetRequiredService<TicketService>();
        Assert.False(tickets.TryConsume(ticket, IPAddress.Parse("192.0.2.7"), out _));
        Assert.False(tickets.TryConsume(ticket, IPAddress.Loopback, out _));

        Assert.NotEmpty(server.Log.Entries);
        Assert.Contains(server.Log.Entries, static e => e.EventId.Name == "TicketIssued");
        Assert.Contains(server.Log.Entries, static e => e.EventId.Name == "OriginRefused" && e.Level == LogLevel.Information);
        Assert.False(server.Log.Contains(ticket), "the ticket was logged");
        Assert.False(server.Log.Contains(SessionCookie(cookies, server).Value), "the cookie was logged");
    }

    [Fact]
    public async Task ANonPositiveTicketTtl_StopsTheBrokerAtStart_NamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BrokerServer.StartAsync(
            new Dictionary<string, string?> { ["Broker:Tickets:Ttl"] = "00:00:00" }));

        Assert.Contains("Broker:Tickets:Ttl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedAllowedOrigin_StopsTheBrokerAtStart_NamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => BrokerServer.StartAsync(
            new Dictionary<string, string?> { ["Broker:AllowedOrigins:0"] = "https://app.example/path" }));

        Assert.Contains("Broker:AllowedOrigins:0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheFixture_ServesHttp2CleartextOnTheGrpcEndpoint_AndHttp11OnTheWebEndpoint()
    {
        await using var server = await BrokerServer.StartAsync();
        using var grpc = server.CreateGrpcHttpClient();
        using var web = server.CreateWebClient();

        using var overGrpcEndpoint = await grpc.GetAsync("/healthz").WaitAsync(Timeout);
        using var overWebEndpoint = await web.GetAsync("/healthz").WaitAsync(Timeout);

        Assert.NotEqual(server.WebAddress, server.GrpcAddress);
        Assert.Equal(HttpVersion.Version20, overGrpcEndpoint.Version);
        Assert.Equal(HttpVersion.Version11, overWebEndpoint.Version);
        Assert.Equal(HttpStatusCode.OK, overWebEndpoint.StatusCode);
    }

    private static async Task<HttpClient> ClientWithSessionAsync(BrokerServer server, string? origin = null, CookieContainer? cookies = null)
    {
        var client = server.CreateWebClient(cookies ?? new CookieContainer());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/session");
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var reply = await client.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        return client;
    }

    private static async Task<HttpResponseMessage> PostTicketsAsync(HttpClient client, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/tickets");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request).WaitAsync(Timeout);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage reply) =>
        await reply.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(Timeout);

    private static Cookie SessionCookie(CookieContainer cookies, BrokerServer server) =>
        Assert.Single(cookies.GetCookies(server.WebAddress), static c => c.Name == SessionResolver.CookieName);
}
