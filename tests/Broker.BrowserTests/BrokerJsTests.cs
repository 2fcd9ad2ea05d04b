using System.Text.Json;
using Broker.BrowserTests.Infrastructure;
using Microsoft.Playwright;

namespace Broker.BrowserTests;

/// <summary>broker.js alone, in Chromium, against the real broker (<see cref="TestBroker"/>).</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrokerJsTests(BrowserFixture browser) : BrokerJsTest(browser)
{
    [Fact]
    public async Task Connects_with_a_ticket_function_subscribes_and_receives_a_backend_publication()
    {
        await OpenTestPageAsync();
        await StartClientAsync();
        await RunAsync("() => window.track('chat:lobby')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");

        var hello = Assert.Single(Sockets.Sent("hello"));
        Assert.Equal("broker-js/1.0", (string?)hello["client"]);
        Assert.False(string.IsNullOrEmpty((string?)hello["ticket"]));
        Assert.Null(hello["resume"]);
        var welcome = Assert.Single(Sockets.ReceivedOf("welcome"));
        Assert.Equal((long)hello["id"]!, (long)welcome["id"]!);
        Assert.Equal("alice", await JsAsync<string>("() => window.log.connects[0].userId"));
        Assert.Equal("broker.v1.json", await JsAsync<string>("() => window.client._ws.protocol"));
        var personal = await JsAsync<string[]>("() => window.client.personal.channels");
        Assert.Contains("$user:alice", personal);
        Assert.Contains("$session:" + await SessionIdAsync(), personal);

        await Server.PublishAsync("chat:lobby", new { text = "hello" });
        await WaitForJsAsync("() => window.log.pubs.length === 1");
        Assert.Equal(["hello"], await ReceivedTextsAsync());
        Assert.Equal(1, await JsAsync<int>("() => window.client.getSubscription('chat:lobby').position.offset"));

        // The page publishes too; the broker sends the publisher its own publication (ack and pub in either order).
        var ack = await JsAsync<JsonElement>("() => window.client.publish('chat:lobby', { text: 'mine' })");
        Assert.Equal(2, ack.GetProperty("offset").GetInt32());
        await WaitForJsAsync("() => window.log.pubs.length === 2");
        Assert.Equal(["hello", "mine"], await ReceivedTextsAsync());
    }

    [Fact]
    public async Task Parses_every_frame_of_a_coalesced_message_in_order()
    {
        await OpenTestPageAsync();
        await StartClientAsync();
        await RunAsync("() => window.track('chat:burst')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");

        // A burst from the backend: the broker's writer coalesces what is waiting into one WebSocket message.
        const int Count = 200;
        for (var i = 1; i <= Count; i++) await Server.PublishAsync("chat:burst", new { text = $"m{i}" });

        await WaitForJsAsync($"() => window.log.pubs.length >= {Count}");
        Assert.Equal(Enumerable.Range(1, Count).Select(i => $"m{i}"), await ReceivedTextsAsync());
        var pubMessages = Sockets.Received.Where(m => m.Contains("\"type\":\"pub\"", StringComparison.Ordinal)).ToList();
        Assert.Contains(pubMessages, m => TestBroker.Frames(m).Length > 1);
        Assert.True(pubMessages.Count < Count, $"{pubMessages.Count} messages for {Count} publications: nothing was coalesced");
        Assert.Empty(await JsAsync<JsonElement[]>("() => window.log.errors"));
    }

    [Fact]
    public async Task Answers_pings_and_the_socket_survives_several_intervals()
    {
        await OpenTestPageAsync(new Dictionary<string, string?>
        {
            ["Broker:WebSocket:PingInterval"] = "00:00:00.500",
            // Under the interval: when PongTimeout >= PingInterval the broker closes live sockets (PongCheckTests).
            ["Broker:WebSocket:PongTimeout"] = "00:00:00.400",
        });
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        Assert.Equal(0.5, await JsAsync<double>("() => window.log.connects[0].pingInterval"));

        // Wait for the broker's sixth ping: three seconds, six chances to miss a pong.
        await Sockets.WaitForReceivedAsync(frames => frames.Count(f => (string?)f["type"] == "ping") >= 6);
        Assert.True(Sockets.Sent("pong").Count >= 5, $"{Sockets.Sent("pong").Count} pongs for six pings");
        Assert.Equal("connected", await JsAsync<string>("() => window.client.state"));
        Assert.Equal(1, await JsAsync<int>("() => window.log.connects.length"));
        Assert.Equal(0, await JsAsync<int>("() => window.log.disconnects.length"));
        Assert.Single(Sockets.Sent("hello"));
    }

    [Fact]
    public async Task A_server_drop_reconnects_with_resume_and_delivers_every_message_once_in_order()
    {
        await OpenTestPageAsync();
        await StartClientAsync(options: new { minReconnectDelay = 300, maxReconnectDelay = 600 });
        await RunAsync("() => window.track('chat:lobby')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        for (var i = 1; i <= 3; i++) await Server.PublishAsync("chat:lobby", new { text = $"m{i}" });
        await WaitForJsAsync("() => window.log.pubs.length === 3");

        // The backend drops the page; publications go on right after the drop and while it is away.
        Assert.Equal(1, Server.Disconnect(await SessionIdAsync(), null));
        for (var i = 4; i <= 5; i++) await Server.PublishAsync("chat:lobby", new { text = $"m{i}" });
        await WaitForJsAsync("() => window.log.states.includes('reconnecting')");
        for (var i = 6; i <= 7; i++) await Server.PublishAsync("chat:lobby", new { text = $"m{i}" });

        await WaitForJsAsync("() => window.log.connects.length === 2 && window.log.subscribed.length === 2");
        for (var i = 8; i <= 9; i++) await Server.PublishAsync("chat:lobby", new { text = $"m{i}" });
        await WaitForJsAsync("() => window.log.pubs.some(p => p.text === 'm9')");
        Assert.Equal(Enumerable.Range(1, 9).Select(i => $"m{i}"), await ReceivedTextsAsync());

        var disconnect = await JsAsync<JsonElement>("() => window.log.disconnects[0]");
        Assert.Equal(4002, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
        var hellos = Sockets.Sent("hello");
        Assert.Equal(2, hellos.Count);
        var resume = hellos[1]["resume"]!["chat:lobby"]!;
        Assert.InRange((int)resume["offset"]!, 3, 5);
        Assert.False(string.IsNullOrEmpty((string?)resume["epoch"]));
        var resumed = await JsAsync<JsonElement>("() => window.log.subscribed[1]");
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        Assert.True(resumed.GetProperty("resumed").GetBoolean());
        Assert.InRange(resumed.GetProperty("missed").GetInt32(), 2, 4);
        Assert.True(await JsAsync<bool>("() => window.log.connects[1].reconnected"));
    }

    [Fact]
    public async Task Unsubscribe_removes_the_channel_from_the_resume()
    {
        await OpenTestPageAsync();
        await StartClientAsync();
        await RunAsync("() => { window.track('chat:keep'); window.track('chat:drop'); }");
        await WaitForJsAsync("() => window.log.subscribed.length === 2");
        await RunAsync("() => window.client.getSubscription('chat:drop').unsubscribe()");
        Assert.Single(Sockets.ReceivedOf("unsubscribed"));

        Server.Disconnect(await SessionIdAsync(), null);
        await WaitForJsAsync("() => window.log.connects.length === 2 && window.log.subscribed.length === 3");
        var hello = Sockets.Sent("hello")[^1];
        Assert.Equal(["chat:keep"], hello["resume"]!.AsObject().Select(kv => kv.Key).Where(k => !k.StartsWith('$')).ToArray());
        await Server.PublishAsync("chat:drop", new { text = "not for me" });
        await Server.PublishAsync("chat:keep", new { text = "kept" });
        await WaitForJsAsync("() => window.log.pubs.length === 1");
        Assert.Equal(["kept"], await ReceivedTextsAsync());
    }

    [Fact]
    public async Task Without_a_ticket_hello_relies_on_the_session_cookie()
    {
        await OpenTestPageAsync();
        await RunAsync("""
            async () => {
              await fetch('/session', { method: 'POST' });
              window.client = new window.broker.BrokerClient();
              window.connected = new Promise((resolve) => window.client.on('connect', resolve));
              window.client.connect();
            }
            """);
        var welcome = await JsAsync<JsonElement>("() => window.connected");
        Assert.False(string.IsNullOrEmpty(welcome.GetProperty("sessionId").GetString()));
        Assert.Equal(JsonValueKind.Null, welcome.GetProperty("userId").ValueKind);
        Assert.Null(Assert.Single(Sockets.Sent("hello"))["ticket"]);
    }

    [Fact]
    public async Task Send_without_a_handler_rejects_with_unavailable()
    {
        await OpenTestPageAsync();
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        var outcome = await JsAsync<string>("() => window.client.send('chat.post', { text: 'hi' }).then(() => 'resolved', e => e.code)");
        Assert.Equal("unavailable", outcome);
        Assert.Equal("connected", await JsAsync<string>("() => window.client.state"));
    }

    [Fact]
    public async Task Fills_a_lagged_gap_from_history()
    {
        // A queue of four and a long history: a burst overflows the queue (DropOldest, told with lagged)
        // and every dropped publication is still in history.
        await OpenTestPageAsync(new Dictionary<string, string?>
        {
            ["Broker:Namespaces:lag:BufferMessages"] = "4",
            ["Broker:Namespaces:lag:HistorySize"] = "10000",
            ["Broker:Namespaces:lag:Subscribe"] = "anyone",
        });
        await StartClientAsync();
        await RunAsync("() => window.track('lag:fast')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");

        // The page is busy (its main thread blocked) while the backend publishes a burst.
        await RunAsync("() => { window.busyUntil = Date.now() + 300; setTimeout(() => { while (Date.now() < window.busyUntil) { } }, 0); }");
        const int Count = 3000;
        for (var i = 1; i <= Count; i++) await Server.PublishAsync("lag:fast", new { text = $"m{i}" });

        await WaitForJsAsync($"() => window.log.pubs.length >= {Count} && window.log.lagged.length > 0 && !window.client.getSubscription('lag:fast')._filling");
        Assert.Equal(Enumerable.Range(1, Count).Select(i => $"m{i}"), await ReceivedTextsAsync());
        Assert.True(await JsAsync<bool>("() => window.log.lagged.every(l => l.recovered)"), await JsAsync<string>("() => JSON.stringify(window.log.lagged)"));
        var dropped = Sockets.ReceivedOf("lagged").Sum(l => (int)l["dropped"]!);
        // Every dropped publication came from history (and, when a second drop widened a fill, the live ones between too).
        Assert.InRange(await JsAsync<int>("() => window.log.lagged.reduce((n, l) => n + l.filled, 0)"), dropped, Count);
        Assert.NotEmpty(Sockets.ReceivedOf("lagged"));
        Assert.NotEmpty(Sockets.Sent("history"));
    }

    [Fact]
    public async Task A_disconnect_without_reconnect_is_final()
    {
        await OpenTestPageAsync();
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        Assert.Equal(1, Server.Disconnect(null, "alice", "kicked", reconnect: false));
        await WaitForJsAsync("() => window.client.state === 'closed'");
        var disconnect = await JsAsync<JsonElement>("() => window.log.disconnects[0]");
        Assert.Equal(4002, disconnect.GetProperty("code").GetInt32());
        Assert.Equal("kicked", disconnect.GetProperty("reason").GetString());
        Assert.False(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.Single(Sockets.Sent("hello"));
    }

    [Fact]
    public async Task A_refused_hello_closes_1008_for_good()
    {
        await OpenTestPageAsync();
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        await RunAsync("() => { window.badTicket = true; }");

        // A bad ticket on the next connect: the broker refuses the hello with 1008 before any welcome.
        Server.Disconnect(await SessionIdAsync(), null);
        await WaitForJsAsync("() => window.client.state === 'closed'");
        var last = await JsAsync<JsonElement>("() => window.log.disconnects[window.log.disconnects.length - 1]");
        Assert.Equal(1008, last.GetProperty("code").GetInt32());
        Assert.False(last.GetProperty("reconnect").GetBoolean());
        Assert.Equal(2, Sockets.Sent("hello").Count);
    }

    [Fact]
    public async Task A_missed_pong_after_welcome_closes_1008_and_the_client_reconnects()
    {
        await OpenTestPageAsync(new Dictionary<string, string?>
        {
            ["Broker:WebSocket:PingInterval"] = "00:00:00.500",
            // Under the interval: when PongTimeout >= PingInterval the broker closes live sockets (PongCheckTests).
            ["Broker:WebSocket:PongTimeout"] = "00:00:00.400",
        });
        await StartClientAsync();
        await RunAsync("() => window.track('chat:lobby')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");

        // Block the page for two seconds: it cannot answer the broker's ping, which closes with 1008.
        await RunAsync("() => { setTimeout(() => { const end = Date.now() + 2000; while (Date.now() < end) { } }, 0); }");
        await WaitForJsAsync("() => window.log.connects.length === 2");
        var disconnect = await JsAsync<JsonElement>("() => window.log.disconnects[0]");
        Assert.Equal(1008, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
        await WaitForJsAsync("() => window.log.subscribed.length === 2");
        await Server.PublishAsync("chat:lobby", new { text = "after" });
        await WaitForJsAsync("() => window.log.pubs.length === 1");
    }

    [Fact]
    public async Task Reconnects_when_the_connection_goes_silent()
    {
        await OpenTestPageAsync(new Dictionary<string, string?>
        {
            ["Broker:WebSocket:PingInterval"] = "00:00:00.500",
            // Long enough that the broker never closes first on a loaded machine (the proxy's pong through
            // Playwright's routing once took over 0.4 s in a clean-clone run): the client's own detection is
            // what this test checks, and it gives up after pingInterval + grace (1 s).
            ["Broker:WebSocket:PongTimeout"] = "00:00:05",
        });

        // A half-open connection, made with Playwright's WebSocket routing in front of the real broker: once
        // muted, the first socket's broker frames never reach the page, and the proxy answers the broker's
        // pings itself so the broker keeps the socket (as it would behind a stuck proxy or a dead NAT entry).
        var muted = 0;
        var opened = 0;
        await Page.RouteWebSocketAsync("**/ws", page =>
        {
            var first = Interlocked.Increment(ref opened) == 1;
            var broker = page.ConnectToServer();
            broker.OnMessage(frame =>
            {
                if (first && Volatile.Read(ref muted) == 1)
                {
                    if (frame.Text?.Contains("\"type\":\"ping\"", StringComparison.Ordinal) == true) broker.Send("""{"type":"pong"}""");
                    return;
                }

                if (frame.Text is { } text) page.Send(text);
            });
        }).WaitAsync(BrowserFixture.Timeout);

        await StartClientAsync(options: new { minReconnectDelay = 50, maxReconnectDelay = 200, deadConnectionGrace = 500 });
        await RunAsync("() => window.track('chat:lobby')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        Volatile.Write(ref muted, 1);
        await Server.PublishAsync("chat:lobby", new { text = "sent into the void" });

        // pingInterval (0.5 s) + grace (0.5 s) without a frame: the client gives up on the socket and resumes.
        await WaitForJsAsync("() => window.log.connects.length === 2 && window.log.pubs.length === 1");
        var disconnect = await JsAsync<JsonElement>("() => window.log.disconnects[0]");
        Assert.Equal(1006, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.Equal(["sent into the void"], await ReceivedTextsAsync());
        Assert.False(Server.Log.Contains("no frame within"), "the broker closed the socket itself: the client's own detection was not tested");
    }

    [Fact]
    public async Task A_refused_resume_entry_fails_only_that_subscription()
    {
        await OpenTestPageAsync(new Dictionary<string, string?> { ["Broker:Namespaces:secret:Subscribe"] = "none" });
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");

        // A subscription with a position made while offline goes into hello.resume; the broker refuses it
        // with an error that has no id but names the channel.
        await RunAsync("""
            () => {
              window.client.close();
              const secret = window.client.subscribe('secret:x', { since: { epoch: 'e1', offset: 1 } });
              window.secretOutcome = secret.ready.then(() => 'subscribed', (e) => e.code);
              window.track('chat:lobby');
              window.client.connect();
            }
            """);
        Assert.Equal("forbidden", await JsAsync<string>("() => window.secretOutcome"));
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        Assert.True(Sockets.Sent("hello")[^1]["resume"]!.AsObject().ContainsKey("secret:x"));
        var error = Assert.Single(Sockets.ReceivedOf("error"));
        Assert.Equal("secret:x", (string?)error["channel"]);
        Assert.Null(error["id"]);
        Assert.True(await JsAsync<bool>("() => window.client.getSubscription('secret:x') === undefined"));
        Assert.Equal(0, await JsAsync<int>("() => window.log.errors.length"));
        Assert.Equal("connected", await JsAsync<string>("() => window.client.state"));
    }

    [Fact]
    public async Task Personal_channels_receive_backend_publications_and_resume_across_a_reconnect()
    {
        await OpenTestPageAsync(new Dictionary<string, string?> { ["Broker:Namespaces:$user:HistorySize"] = "100" });
        await StartClientAsync(options: new { minReconnectDelay = 300, maxReconnectDelay = 600 });
        await WaitForJsAsync("() => window.log.connects.length === 1");
        await Server.PublishAsync("$user:alice", new { text = "psst" }, "notice");
        await WaitForJsAsync("() => window.log.personal.length === 1");
        Assert.Equal("psst", await JsAsync<string>("() => window.log.personal[0].text"));

        // Dropped; two notices while away: hello.resume names $user:alice and the broker replays them after welcome.
        Server.Disconnect(null, "alice");
        await WaitForJsAsync("() => window.log.states.includes('reconnecting')");
        await Server.PublishAsync("$user:alice", new { text = "away 1" }, "notice");
        await Server.PublishAsync("$user:alice", new { text = "away 2" }, "notice");
        await WaitForJsAsync("() => window.log.personal.length >= 3 && window.log.connects.length === 2");
        await Server.PublishAsync("$user:alice", new { text = "live" }, "notice");
        await WaitForJsAsync("() => window.log.personal.some(p => p.text === 'live')");
        Assert.Equal(["psst", "away 1", "away 2", "live"], await JsAsync<string[]>("() => window.log.personal.map(p => p.text)"));

        var resume = Sockets.Sent("hello")[1]["resume"]!["$user:alice"]!;
        Assert.Equal(1, (int)resume["offset"]!);
        var entry = Sockets.ReceivedOf("welcome")[1]["subscriptions"]!.AsArray().Single(s => (string?)s!["channel"] == "$user:alice")!;
        Assert.True((bool)entry["recovered"]!);
    }
}
