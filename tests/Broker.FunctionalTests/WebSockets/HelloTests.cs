using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>The upgrade, hello and welcome (PROTOCOL.md, "WebSocket transport", "Authentication").</summary>
public class HelloTests
{
    [Fact]
    public async Task AHelloWithATicketGetsWelcomeWithIdentityAndPersonalChannels()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (socket, welcome) = await server.ConnectAsync("alice");
        await using var _ = socket;

        Assert.Equal(1, welcome.GetProperty("id").GetInt64());
        Assert.Equal("alice", welcome.GetProperty("userId").GetString());
        string sessionId = welcome.GetProperty("sessionId").GetString()!;
        Assert.False(string.IsNullOrEmpty(welcome.GetProperty("connectionId").GetString()));
        Assert.Equal(25, welcome.GetProperty("pingInterval").GetDouble());
        Assert.Equal(65536, welcome.GetProperty("maxMessageBytes").GetInt32());
        var channels = welcome.GetProperty("subscriptions").EnumerateArray().Select(s => s.GetProperty("channel").GetString()).ToList();
        Assert.Equal(["$session:" + sessionId, "$user:alice"], channels);
        Assert.All(welcome.GetProperty("subscriptions").EnumerateArray(), s =>
        {
            Assert.False(string.IsNullOrEmpty(s.GetProperty("epoch").GetString()));
            Assert.Equal(0ul, s.GetProperty("offset").GetUInt64());
        });
    }

    [Fact]
    public async Task TheSubprotocolIsAcceptedWhenOffered()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await TestSocket.ConnectAsync(server, subProtocol: "broker.v1.json");
        Assert.Equal("broker.v1.json", socket.Raw.SubProtocol);
    }

    [Fact]
    public async Task AHelloWithoutTicketBindsTheSameOriginSessionCookie()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var cookies = new CookieContainer();
        using var http = server.CreateWebClient(cookies);
        var session = await (await http.PostAsync("/session", null).WaitAsync(BrokerServer.DefaultTimeout)).Content.ReadFromJsonAsync<JsonElement>();

        await using var socket = await TestSocket.ConnectAsync(server, origin: server.WebAddress.GetLeftPart(UriPartial.Authority), cookies: cookies);
        await socket.SendAsync("""{"type":"hello"}""");
        var welcome = await socket.ExpectAsync("welcome");
        Assert.Equal(session.GetProperty("sessionId").GetString(), welcome.GetProperty("sessionId").GetString());
        Assert.Equal(JsonValueKind.Null, welcome.GetProperty("userId").ValueKind);
    }

    [Fact]
    public async Task ACookieIsNotBoundWhenTheUpgradeIsCrossSite()
    {
        // app.example is allowed to open sockets (with tickets its backend mints), but a cross-site
        // upgrade must not ride the broker's session cookie.
        await using var server = await BrokerServer.StartAsync(With(("Broker:AllowedOrigins:0", "https://app.example")));
        var cookies = new CookieContainer();
        using var http = server.CreateWebClient(cookies);
        await http.PostAsync("/session", null).WaitAsync(BrokerServer.DefaultTimeout);

        await using var socket = await TestSocket.ConnectAsync(server, origin: "https://app.example", cookies: cookies,
            headers: new Dictionary<string, string> { ["Sec-Fetch-Site"] = "cross-site" });
        await socket.SendAsync("""{"type":"hello","id":1}""");
        await socket.ExpectErrorAsync("unauthorized", id: 1);
        Assert.Equal(1008, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task NeitherTicketNorCookieIsUnauthorizedAndCloses1008()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendAsync("""{"type":"hello","id":7}""");
        await socket.ExpectErrorAsync("unauthorized", id: 7);
        Assert.Equal(1008, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task AllowAnonymousGivesANewSessionWithoutUser()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:AllowAnonymous", "true")));
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendAsync("""{"type":"hello"}""");
        var welcome = await socket.ExpectAsync("welcome");
        Assert.False(string.IsNullOrEmpty(welcome.GetProperty("sessionId").GetString()));
        Assert.Equal(JsonValueKind.Null, welcome.GetProperty("userId").ValueKind);
        Assert.Single(welcome.GetProperty("subscriptions").EnumerateArray());
    }

    [Fact]
    public async Task AReusedTicketIsRefused()
    {
        await using var server = await BrokerServer.StartAsync(With());
        string ticket = await server.IssueTicketAsync("alice");
        await using var first = await TestSocket.ConnectAsync(server);
        await first.SendJsonAsync(new { type = "hello", ticket });
        await first.ExpectAsync("welcome");

        await using var second = await TestSocket.ConnectAsync(server);
        await second.SendJsonAsync(new { type = "hello", ticket });
        await second.ExpectErrorAsync("unauthorized");
        Assert.Equal(1008, await second.ExpectCloseAsync());
    }

    [Fact]
    public async Task AnExpiredTicketIsRefused()
    {
        var clock = new ManualTimeProvider();
        await using var server = await BrokerServer.StartAsync(With(), clock);
        string ticket = await server.IssueTicketAsync("alice");
        clock.Advance(TimeSpan.FromSeconds(31));
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(new { type = "hello", ticket });
        await socket.ExpectErrorAsync("unauthorized");
        Assert.Equal(1008, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task AHundredParallelHellosWithOneTicketGetExactlyOneWelcome()
    {
        await using var server = await BrokerServer.StartAsync(With());
        string ticket = await server.IssueTicketAsync("alice");
        var sockets = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => TestSocket.ConnectAsync(server)));
        await Task.WhenAll(sockets.Select(s => s.SendJsonAsync(new { type = "hello", ticket })));
        var first = await Task.WhenAll(sockets.Select(s => s.ReceiveAsync()));
        Assert.Equal(1, first.Count(f => f.GetProperty("type").GetString() == "welcome"));
        Assert.Equal(99, first.Count(f => f.GetProperty("type").GetString() == "error"));
        foreach (var socket in sockets)
        {
            await socket.DisposeAsync();
        }
    }

    [Fact]
    public async Task AForeignOriginIsRefusedWith403BeforeTheUpgrade()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var error = await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => TestSocket.ConnectAsync(server, origin: "https://evil.example"));
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFrameBeforeHelloIsUnauthorizedAndCloses1008()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendAsync("""{"type":"subscribe","id":3,"channel":"chat:lobby"}""");
        await socket.ExpectErrorAsync("unauthorized", id: 3);
        Assert.Equal(1008, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task NoHelloWithinTheTimeoutCloses1008()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:HelloTimeout", "00:00:00.300")));
        await using var socket = await TestSocket.ConnectAsync(server);
        Assert.Equal(1008, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task ASecondHelloIsABadRequestAndTheSocketStays()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync("""{"type":"hello","id":9}""");
        await socket.ExpectErrorAsync("bad_request", id: 9);
        await socket.ExpectAliveAsync();
    }
}
