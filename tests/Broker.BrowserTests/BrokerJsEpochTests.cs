using System.Text.Json;
using Broker.BrowserTests.Infrastructure;
using Broker.FunctionalTests.Sessions;
using Microsoft.Playwright;
using StackExchange.Redis;

namespace Broker.BrowserTests;

/// <summary>
/// broker.js when a channel's epoch changes under its live subscriptions: the broker on the Redis engine
/// (a private redis-server) sends an unsolicited <c>subscribed</c> (no <c>id</c>, <c>recovered:false</c>) after
/// Redis lost the channel's history (PROTOCOL.md, "Running several brokers (cluster)"). Redis loses it here the
/// way the functional tests make it: the test deletes the channel's keys, and the next publish starts a new epoch.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrokerJsEpochTests(BrowserFixture browser, RedisServer redis) : BrokerJsTest(browser), IClassFixture<RedisServer>
{
    [Fact]
    public async Task A_subscription_jumps_to_the_new_epoch_is_told_to_reload_and_resumes_from_there()
    {
        const string Channel = "chat:epoch";
        var prefix = RedisServer.NewPrefix();
        await OpenTestPageAsync(RedisEngine(prefix));
        await StartClientAsync();
        await RunAsync($"() => window.track('{Channel}')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        var old = await Server.PublishAsync(Channel, new { text = "old" });
        await WaitForJsAsync("() => window.log.pubs.length === 1");

        await LoseHistoryAsync(prefix, Channel);
        var fresh = await Server.PublishAsync(Channel, new { text = "fresh" });
        Assert.NotEqual(old.Position.Epoch, fresh.Position.Epoch);
        Assert.Equal(1ul, fresh.Position.Offset);

        await WaitForJsAsync("() => window.log.subscribed.length === 2 && window.log.pubs.length === 2");
        var unasked = Sockets.ReceivedOf("subscribed")[^1];
        Assert.Null(unasked["id"]);
        var told = await JsAsync<JsonElement>("() => window.log.subscribed[1]");
        Assert.Equal(Channel, told.GetProperty("channel").GetString());
        Assert.Equal(fresh.Position.Epoch, told.GetProperty("epoch").GetString());
        Assert.Equal(0, told.GetProperty("offset").GetInt64());
        Assert.False(told.GetProperty("recovered").GetBoolean());
        Assert.True(told.GetProperty("resumed").GetBoolean());
        Assert.True(told.GetProperty("epochChanged").GetBoolean());
        Assert.Equal(0, told.GetProperty("missed").GetInt32());
        // When the app hears it, the position already stands in the new epoch (before its first publication).
        Assert.Equal(fresh.Position.Epoch, told.GetProperty("position").GetProperty("epoch").GetString());
        Assert.Equal(0, told.GetProperty("position").GetProperty("offset").GetInt64());
        Assert.False(await JsAsync<bool>("() => window.log.subscribed[0].epochChanged"));
        Assert.Equal(["old", "fresh"], await ReceivedTextsAsync());
        Assert.Equal(fresh.Position.Epoch, await JsAsync<string>($"() => window.client.getSubscription('{Channel}').position.epoch"));
        Assert.Equal("subscribed", await JsAsync<string>($"() => window.client.getSubscription('{Channel}').state"));

        // A reconnect resumes from the new epoch, not the dead one: recovered, nothing replayed twice.
        Assert.Equal(1, Server.Disconnect(await SessionIdAsync(), null));
        await WaitForJsAsync("() => window.log.connects.length === 2 && window.log.subscribed.length === 3");
        var resume = Sockets.Sent("hello")[^1]["resume"]![Channel]!;
        Assert.Equal(fresh.Position.Epoch, (string?)resume["epoch"]);
        Assert.Equal(1, (int)resume["offset"]!);
        var resumed = await JsAsync<JsonElement>("() => window.log.subscribed[2]");
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        Assert.False(resumed.GetProperty("epochChanged").GetBoolean());
        await Server.PublishAsync(Channel, new { text = "after" });
        await WaitForJsAsync("() => window.log.pubs.length === 3");
        Assert.Equal(["old", "fresh", "after"], await ReceivedTextsAsync());
        Assert.Empty(await JsAsync<JsonElement[]>("() => window.log.errors"));
    }

    [Fact]
    public async Task A_personal_channel_jumps_to_the_new_epoch_and_personal_subscribed_tells_the_app()
    {
        var prefix = RedisServer.NewPrefix();
        var settings = RedisEngine(prefix);
        settings["Broker:Namespaces:$user:HistorySize"] = "100";
        await OpenTestPageAsync(settings);
        await StartClientAsync();
        await WaitForJsAsync("() => window.log.connects.length === 1");
        // One `subscribed` per personal channel on welcome ($session:… and $user:alice).
        Assert.Equal(2, await JsAsync<int>("() => window.log.personalSubscribed.length"));
        var old = await Server.PublishAsync("$user:alice", new { text = "old" }, "notice");
        await WaitForJsAsync("() => window.log.personal.length === 1");

        await LoseHistoryAsync(prefix, "$user:alice");
        var fresh = await Server.PublishAsync("$user:alice", new { text = "fresh" }, "notice");
        Assert.NotEqual(old.Position.Epoch, fresh.Position.Epoch);

        await WaitForJsAsync("() => window.log.personalSubscribed.length === 3 && window.log.personal.length === 2");
        var told = await JsAsync<JsonElement>("() => window.log.personalSubscribed[2]");
        Assert.Equal("$user:alice", told.GetProperty("channel").GetString());
        Assert.Equal(fresh.Position.Epoch, told.GetProperty("epoch").GetString());
        Assert.Equal(0, told.GetProperty("offset").GetInt64());
        Assert.False(told.GetProperty("recovered").GetBoolean());
        Assert.True(told.GetProperty("epochChanged").GetBoolean());
        Assert.Equal(["old", "fresh"], await JsAsync<string[]>("() => window.log.personal.map(p => p.text)"));

        // The reconnect's hello resumes $user:alice from the new epoch, and the broker recovers it.
        Server.Disconnect(null, "alice");
        await WaitForJsAsync("() => window.log.connects.length === 2");
        var resume = Sockets.Sent("hello")[^1]["resume"]!["$user:alice"]!;
        Assert.Equal(fresh.Position.Epoch, (string?)resume["epoch"]);
        Assert.Equal(1, (int)resume["offset"]!);
        var entry = Sockets.ReceivedOf("welcome")[^1]["subscriptions"]!.AsArray().Single(s => (string?)s!["channel"] == "$user:alice")!;
        Assert.True((bool)entry["recovered"]!);
        Assert.Empty(await JsAsync<JsonElement[]>("() => window.log.errors"));
    }

    [Fact]
    public async Task An_unsolicited_subscribed_for_a_channel_the_client_does_not_hold_is_ignored()
    {
        await OpenTestPageAsync();
        // Playwright's WebSocket routing in front of the real broker, so the test can add a frame of its own.
        var routes = new TaskCompletionSource<IWebSocketRoute>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Page.RouteWebSocketAsync("**/ws", page =>
        {
            var broker = page.ConnectToServer();
            broker.OnMessage(frame =>
            {
                if (frame.Text is { } text) page.Send(text);
            });
            routes.TrySetResult(page);
        }).WaitAsync(BrowserFixture.Timeout);
        await StartClientAsync();
        await RunAsync("() => { window.track('chat:kept'); window.track('chat:dropped'); }");
        await WaitForJsAsync("() => window.log.subscribed.length === 2");
        await RunAsync("() => window.client.getSubscription('chat:dropped').unsubscribe()");

        var route = await routes.Task.WaitAsync(BrowserFixture.Timeout);
        route.Send("""{"type":"subscribed","channel":"chat:never","epoch":"e9","offset":3,"recovered":false}""");
        route.Send("""{"type":"subscribed","channel":"chat:dropped","epoch":"e9","offset":3,"recovered":false}""");
        await Server.PublishAsync("chat:kept", new { text = "still here" });

        await WaitForJsAsync("() => window.log.pubs.length === 1");
        Assert.Equal(["still here"], await ReceivedTextsAsync());
        Assert.Equal(2, await JsAsync<int>("() => window.log.subscribed.length"));
        Assert.True(await JsAsync<bool>("() => window.client.getSubscription('chat:never') === undefined && window.client.getSubscription('chat:dropped') === undefined"));
        Assert.Empty(await JsAsync<JsonElement[]>("() => window.log.errors"));
        Assert.Equal("connected", await JsAsync<string>("() => window.client.state"));
    }

    [Fact]
    public async Task An_epoch_change_during_a_gap_fill_abandons_the_fill_and_delivers_what_it_held()
    {
        await OpenTestPageAsync();
        // Playwright's WebSocket routing in front of the real broker: the page's `history` requests are held
        // back (a fill stays in flight), and the test adds the broker's frames of a drop and an epoch change.
        var routes = new TaskCompletionSource<IWebSocketRoute>(TaskCreationOptions.RunContinuationsAsynchronously);
        var historyAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Page.RouteWebSocketAsync("**/ws", page =>
        {
            var broker = page.ConnectToServer();
            broker.OnMessage(frame =>
            {
                if (frame.Text is { } text) page.Send(text);
            });
            page.OnMessage(frame =>
            {
                var lines = (frame.Text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
                var forward = lines.Where(l => !l.Contains("\"type\":\"history\"", StringComparison.Ordinal)).ToArray();
                if (forward.Length < lines.Length) historyAsked.TrySetResult();
                if (forward.Length > 0) broker.Send(string.Join('\n', forward));
            });
            routes.TrySetResult(page);
        }).WaitAsync(BrowserFixture.Timeout);
        await StartClientAsync();
        await RunAsync("() => window.track('chat:fill')");
        await WaitForJsAsync("() => window.log.subscribed.length === 1");
        var first = await Server.PublishAsync("chat:fill", new { text = "m1" });
        await WaitForJsAsync("() => window.log.pubs.length === 1");
        var route = await routes.Task.WaitAsync(BrowserFixture.Timeout);
        var epoch = first.Position.Epoch;

        // Two publications dropped (2, 3): the client holds 4 and asks history from 1, which never answers.
        route.Send($$$"""{"type":"lagged","channel":"chat:fill","dropped":2,"epoch":"{{{epoch}}}","offset":3}""");
        route.Send($$$"""{"type":"pub","channel":"chat:fill","event":"message","data":{"text":"m4"},"offset":4,"epoch":"{{{epoch}}}","time":"2026-12-07T00:00:00.000Z"}""");
        await historyAsked.Task.WaitAsync(BrowserFixture.Timeout);
        Assert.True(await JsAsync<bool>("() => window.client.getSubscription('chat:fill')._filling"));

        // The channel's history is lost meanwhile: the broker says so, and the new epoch's first publication follows.
        route.Send("""{"type":"subscribed","channel":"chat:fill","epoch":"e-new","offset":0,"recovered":false}""");
        route.Send("""{"type":"pub","channel":"chat:fill","event":"message","data":{"text":"n1"},"offset":1,"epoch":"e-new","time":"2026-12-07T00:00:01.000Z"}""");

        await WaitForJsAsync("() => window.log.pubs.length === 3 && window.log.subscribed.length === 2");
        Assert.Equal(["m1", "m4", "n1"], await ReceivedTextsAsync());
        Assert.Equal(1, await JsAsync<int>("() => window.log.lagged.length"));
        var lagged = await JsAsync<JsonElement>("() => window.log.lagged[0]");
        Assert.False(lagged.GetProperty("recovered").GetBoolean());
        Assert.Equal(3, lagged.GetProperty("offset").GetInt64());
        Assert.Equal(0, lagged.GetProperty("filled").GetInt32());
        var told = await JsAsync<JsonElement>("() => window.log.subscribed[1]");
        Assert.True(told.GetProperty("epochChanged").GetBoolean());
        Assert.Equal("e-new", told.GetProperty("position").GetProperty("epoch").GetString());
        Assert.Equal(0, told.GetProperty("position").GetProperty("offset").GetInt64());
        Assert.True(await JsAsync<bool>("() => { const s = window.client.getSubscription('chat:fill'); return !s._filling && s.position.epoch === 'e-new' && s.position.offset === 1; }"));
        Assert.Empty(await JsAsync<JsonElement[]>("() => window.log.errors"));
    }

    private Dictionary<string, string?> RedisEngine(string prefix) => new()
    {
        ["Broker:Engine"] = "Redis",
        ["Broker:Redis:Configuration"] = redis.Configuration,
        ["Broker:Redis:Prefix"] = prefix,
    };

    /// <summary>Redis loses the channel (evicted, flushed, failed over to an empty replica): its numbering and history.</summary>
    private Task<long> LoseHistoryAsync(string prefix, string channel) =>
        redis.Connection.GetDatabase().KeyDeleteAsync([(RedisKey)$"{prefix}:{{{channel}}}:meta", (RedisKey)$"{prefix}:{{{channel}}}:stream"]).WaitAsync(BrowserFixture.Timeout);
}
