using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.BrowserTests.Infrastructure;
using Microsoft.Playwright;

namespace Broker.BrowserTests;

/// <summary>broker.js alone, in Chromium, against the <see cref="FakeBrokerServer"/> test double.</summary>
[Collection(BrowserCollection.Name)]
public sealed class BrokerJsTests(BrowserFixture browser) : IAsyncLifetime
{
    // Records everything the client emits into window.log so tests can wait on DOM-free state.
    private const string Harness = """
        async ({ name, options }) => {
          const { BrokerClient } = window.broker;
          await fetch('/session', { method: 'POST' });
          if (name) await fetch('/demo/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
          const ticket = async () => (await (await fetch('/tickets', { method: 'POST' })).json()).ticket;
          const client = new BrokerClient({ ticket, ...options });
          window.client = client;
          window.log = { states: [], connects: [], disconnects: [], errors: [], pubs: [], subscribed: [], lagged: [], personal: [] };
          client.on('state', (s) => window.log.states.push(s.state));
          client.on('connect', (c) => window.log.connects.push(c));
          client.on('disconnect', (d) => window.log.disconnects.push(d));
          client.on('error', (e) => window.log.errors.push({ code: e.code, message: e.message }));
          client.personal.on('*', (p) => window.log.personal.push(p));
          window.track = (channel) => {
            const sub = client.subscribe(channel);
            sub.on('*', (p) => window.log.pubs.push({ channel: p.channel, offset: p.offset, text: p.data && p.data.text }));
            sub.on('subscribed', (s) => window.log.subscribed.push(s));
            sub.on('lagged', (l) => window.log.lagged.push(l));
            return sub;
          };
          client.connect();
        }
        """;

    private FakeBrokerServer _server = null!;
    private BrowserPage _page = null!;

    private IPage Page => _page.Page;

    public async Task InitializeAsync()
    {
        _server = await FakeBrokerServer.StartAsync();
        _page = await browser.NewPageAsync(_server.BaseUri);
        await Page.GotoAsync("/test.html");
        await WaitForJsAsync("() => !!window.broker");
    }

    public async Task DisposeAsync()
    {
        await _page.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task StartClientAsync(string? name = "alice", object? options = null) =>
        RunAsync(Harness, new { name, options = options ?? new { minReconnectDelay = 50, maxReconnectDelay = 200 } });

    // Page.EvaluateAsync waits for the script's promise with no limit of its own: every call here has one.
    private Task RunAsync(string script, object? arg = null) => Page.EvaluateAsync(script, arg).WaitAsync(BrowserFixture.Timeout);

    private Task<T> JsAsync<T>(string script, object? arg = null) => Page.EvaluateAsync<T>(script, arg).WaitAsync(BrowserFixture.Timeout);

    private Task WaitForJsAsync(string predicate) =>
        Page.WaitForFunctionAsync(predicate, null, new PageWaitForFunctionOptions { Timeout = (float)BrowserFixture.Timeout.TotalMilliseconds });


    private Task<string[]> ReceivedTextsAsync() => JsAsync<string[]>("() => window.log.pubs.map(p => p.text)");

    [Fact]
    public async Task Connects_with_a_ticket_and_subscribes()
    {
        await StartClientAsync();
        await RunAsync("() => window.track('chat:lobby')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");

        var hello = await _server.WaitForFrameAsync(f => (string?)f["type"] == "hello");
        Assert.Equal("broker-js/1.0", (string?)hello["client"]);
        Assert.False(string.IsNullOrEmpty((string?)hello["ticket"]));
        Assert.Null(hello["resume"]);
        Assert.Equal("alice", await JsAsync<string>("() => window.log.connects[0].userId"));
        Assert.Equal("broker.v1.json", await JsAsync<string>("() => window.client._ws.protocol"));
        Assert.Contains("$user:alice", await JsAsync<string[]>("() => window.client.personal.channels"));

        _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = "hello" });
        await WaitForJsAsync("() => window.log.pubs.length === 1");
        Assert.Equal(["hello"], await ReceivedTextsAsync());
        Assert.Equal(1, await JsAsync<int>("() => window.client.getSubscription('chat:lobby').position.offset"));
    }

    [Fact]
    public async Task Parses_every_frame_of_a_message_answers_ping_and_batches_its_own_frames()
    {
        await StartClientAsync();
        await RunAsync("() => window.track('chat:multi')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        var epoch = await JsAsync<string>("() => window.client.getSubscription('chat:multi').position.epoch");

        // Three publications and a ping in ONE WebSocket message.
        var frames = Enumerable.Range(1, 3)
            .Select(i => JsonSerializer.Serialize(new { type = "pub", channel = "chat:multi", @event = "message", data = new { text = $"m{i}" }, offset = i, epoch, time = "2026-11-21T20:00:00.000Z" }))
            .Append("""{"type":"ping"}""");
        _server.SendRawToAll(string.Join('\n', frames));

        await WaitForJsAsync("() => window.log.pubs.length === 3");
        Assert.Equal(["m1", "m2", "m3"], await ReceivedTextsAsync());
        await _server.WaitForFrameAsync(f => (string?)f["type"] == "pong");

        // Three publishes in one task go out as one message of three frames, each with its own id.
        await RunAsync("() => Promise.all([1, 2, 3].map(i => window.client.publish('chat:multi', { text: 'p' + i })))");
        Assert.Contains(_server.RawMessages, m => m.Split('\n').Length == 3 && m.Contains("\"p1\"", StringComparison.Ordinal) && m.Contains("\"p3\"", StringComparison.Ordinal));
        var ids = _server.ReceivedFrames.Where(f => (string?)f["type"] == "publish").Select(f => (long)f["id"]!).ToList();
        Assert.Equal(3, ids.Distinct().Count());
    }

    [Fact]
    public async Task Reconnects_with_resume_and_delivers_every_message_once_in_order()
    {
        await StartClientAsync();
        await RunAsync("() => window.track('chat:lobby')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        for (var i = 1; i <= 3; i++) _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = $"m{i}" });
        await WaitForJsAsync("() => window.log.pubs.length === 3");

        // The broker goes away; three messages are published while the page is offline.
        _server.RefuseConnections = true;
        _server.DropAll();
        await WaitForJsAsync("() => window.log.states.includes('reconnecting')");
        for (var i = 4; i <= 6; i++) _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = $"m{i}" });
        _server.ReplayOverlap = 2; // the replay repeats m2 and m3: the client must drop them
        _server.RefuseConnections = false;

        await WaitForJsAsync("() => window.log.pubs.length >= 6 && window.client.state === 'connected'");
        var hellos = _server.ReceivedFrames.Where(f => (string?)f["type"] == "hello").ToList();
        Assert.Equal(2, hellos.Count);
        var resume = hellos[1]["resume"]!["chat:lobby"]!;
        Assert.Equal(3, (int)resume["offset"]!);
        Assert.False(string.IsNullOrEmpty((string?)resume["epoch"]));

        // Nothing else arrives after a new live message: the list is exactly m1..m7, once each.
        _server.Publish("chat:lobby", "message", new JsonObject { ["text"] = "m7" });
        await WaitForJsAsync("() => window.log.pubs.some(p => p.text === 'm7')");
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "m6", "m7"], await ReceivedTextsAsync());
        var resumed = await JsAsync<JsonElement>("() => window.log.subscribed[1]");
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        Assert.True(resumed.GetProperty("resumed").GetBoolean());
        Assert.Equal(3, resumed.GetProperty("missed").GetInt32());
        Assert.True(await JsAsync<bool>("() => window.log.connects[1].reconnected"));
    }

    [Fact]
    public async Task Unsubscribe_removes_the_channel_from_the_resume()
    {
        await StartClientAsync();
        await RunAsync("() => { window.track('chat:keep'); window.track('chat:drop'); }");
        await WaitForJsAsync("() => window.log.subscribed.length === 2");
        await RunAsync("() => window.client.getSubscription('chat:drop').unsubscribe()");
        await _server.WaitForFrameAsync(f => (string?)f["type"] == "unsubscribe");

        _server.DropAll();
        await WaitForJsAsync("() => window.log.connects.length === 2");
        var hello = _server.ReceivedFrames.Where(f => (string?)f["type"] == "hello").Last();
        var resumed = hello["resume"]!.AsObject().Select(kv => kv.Key).ToArray();
        Assert.Equal(["chat:keep"], resumed);
        Assert.Equal(2, _server.ReceivedFrames.Count(f => (string?)f["type"] == "hello"));
    }

    [Fact]
    public async Task Without_a_ticket_hello_relies_on_the_session_cookie()
    {
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
        var hello = await _server.WaitForFrameAsync(f => (string?)f["type"] == "hello");
        Assert.Null(hello["ticket"]);
    }

    [Fact]
    public async Task Fills_a_lagged_gap_from_history()
    {
        await StartClientAsync();
        await RunAsync("() => window.track('chat:fast')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        _server.Publish("chat:fast", "message", new JsonObject { ["text"] = "m1" });
        _server.SimulateDrops("chat:fast", 3, "message", i => new JsonObject { ["text"] = $"m{i + 2}" });
        _server.Publish("chat:fast", "message", new JsonObject { ["text"] = "m5" });

        await WaitForJsAsync("() => window.log.lagged.length === 1");
        Assert.Equal(["m1", "m2", "m3", "m4", "m5"], await ReceivedTextsAsync());
        var lagged = await JsAsync<JsonElement>("() => window.log.lagged[0]");
        Assert.True(lagged.GetProperty("recovered").GetBoolean());
        Assert.Equal(3, lagged.GetProperty("filled").GetInt32());
        var history = await _server.WaitForFrameAsync(f => (string?)f["type"] == "history");
        Assert.Equal(1, (int)history["since"]!["offset"]!);
    }

    [Fact]
    public async Task Reconnects_when_the_connection_goes_silent()
    {
        _server.PingInterval = 1;
        await StartClientAsync(options: new { minReconnectDelay = 50, maxReconnectDelay = 200, deadConnectionGrace = 500 });
        await WaitForJsAsync("() => window.log.connects.length === 1");
        _server.MuteAll();
        await WaitForJsAsync("() => window.log.connects.length === 2");
        Assert.Equal(1006, await JsAsync<int>("() => window.log.disconnects[0].code"));
        Assert.True(await JsAsync<bool>("() => window.log.disconnects[0].reconnect"));
    }

    [Fact]
    public async Task Stops_after_disconnect_without_reconnect()
    {
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        _server.DisconnectAll(4002, "kicked", reconnect: false);
        await WaitForJsAsync("() => window.client.state === 'closed'");
        var disconnect = await JsAsync<JsonElement>("() => window.log.disconnects[0]");
        Assert.Equal(4002, disconnect.GetProperty("code").GetInt32());
        Assert.Equal("kicked", disconnect.GetProperty("reason").GetString());
        Assert.False(disconnect.GetProperty("reconnect").GetBoolean());
    }

    [Theory]
    [InlineData(1008, false)] // policy: auth, missing hello, abuse
    [InlineData(4003, false)] // session ended
    [InlineData(1001, true)]  // broker shutting down: reconnect elsewhere
    [InlineData(4001, true)]  // slow consumer
    public async Task Reconnects_after_a_close_unless_the_code_is_final(int code, bool reconnects)
    {
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        _server.CloseAll(code);
        await WaitForJsAsync("() => window.log.disconnects.length === 1");
        var disconnect = await JsAsync<JsonElement>("() => window.log.disconnects[0]");
        Assert.Equal(code, disconnect.GetProperty("code").GetInt32());
        Assert.Equal(reconnects, disconnect.GetProperty("reconnect").GetBoolean());
        await WaitForJsAsync(reconnects ? "() => window.log.connects.length === 2" : "() => window.client.state === 'closed'");
    }

    [Fact]
    public async Task Send_resolves_with_the_reply_and_rejects_with_the_error_code()
    {
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        var ok = await JsAsync<JsonElement>("() => window.client.send('chat.post', { room: 'lobby', text: ' hi ' })");
        Assert.True(ok.GetProperty("ok").GetBoolean());

        const string Attempt = "(data) => window.client.send('chat.post', data).then(() => 'resolved', e => e.code + ':' + e.message)";
        Assert.Equal("bad_request:Write something first.", await JsAsync<string>(Attempt, new { room = "lobby", text = "   " }));
        _server.BackendEnabled = false;
        Assert.StartsWith("unavailable:", await JsAsync<string>(Attempt, new { room = "lobby", text = "hi" }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Personal_channel_publications_reach_client_personal()
    {
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        _server.Publish("$user:alice", "notice", new JsonObject { ["text"] = "psst" });
        await WaitForJsAsync("() => window.log.personal.length === 1");
        Assert.Equal("psst", await JsAsync<string>("() => window.log.personal[0].data.text"));
    }
}
