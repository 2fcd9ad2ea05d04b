using System.Text.Json;
using Broker.BrowserTests.Infrastructure;
using Microsoft.Playwright;

namespace Broker.BrowserTests;

/// <summary>
/// Regression tests for the pong check (WebSocketConnection.OnPingDue/OnPongDue): the deadline belongs to
/// the oldest unanswered ping, so it works whatever <c>PongTimeout</c> is next to <c>PingInterval</c>. It
/// once re-armed one timer on every ping: a longer timeout then never fired, and an equal one compared the
/// last frame with the new ping's time and closed live clients.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PongCheckTests(BrowserFixture browser) : BrowserTest(browser)
{
    private async Task StartAsync(string pingInterval, string pongTimeout)
    {
        await OpenTestPageAsync(new Dictionary<string, string?>
        {
            ["Broker:WebSocket:PingInterval"] = pingInterval,
            ["Broker:WebSocket:PongTimeout"] = pongTimeout,
        });
        await Page.EvaluateAsync("""
            async () => {
              await fetch('/session', { method: 'POST' });
              window.log = { connects: [], disconnects: [] };
              const client = new window.broker.BrokerClient({ minReconnectDelay: 50, maxReconnectDelay: 200 });
              client.on('connect', (c) => window.log.connects.push(c));
              client.on('disconnect', (d) => window.log.disconnects.push(d));
              window.client = client;
              client.connect();
            }
            """).WaitAsync(BrowserFixture.Timeout);
        await WaitForJsAsync("() => window.log.connects.length === 1");
    }

    [Fact]
    public async Task A_pong_timeout_equal_to_the_ping_interval_keeps_a_live_socket()
    {
        // A second each: wide enough that a loaded 2-core machine answers in time, and still the equal case.
        await StartAsync("00:00:01", "00:00:01");
        // broker.js answers every ping at once; five intervals must pass without a close.
        await Sockets.WaitForReceivedAsync(frames => frames.Count(f => (string?)f["type"] == "ping") >= 5);
        Assert.Equal("[]", await Page.EvaluateAsync<string>("() => JSON.stringify(window.log.disconnects)").WaitAsync(BrowserFixture.Timeout));
    }

    [Fact]
    public async Task A_pong_timeout_longer_than_the_ping_interval_still_closes_a_silent_socket()
    {
        await StartAsync("00:00:00.300", "00:00:01");
        // The page is frozen for three seconds: no pong for ten pings, three times the pong timeout.
        await Page.EvaluateAsync("() => { setTimeout(() => { const end = Date.now() + 3000; while (Date.now() < end) { } }, 0); }").WaitAsync(BrowserFixture.Timeout);
        await WaitForJsAsync("() => window.log.disconnects.length > 0");
        var disconnect = await Page.EvaluateAsync<JsonElement>("() => window.log.disconnects[0]").WaitAsync(BrowserFixture.Timeout);
        Assert.Equal(1008, disconnect.GetProperty("code").GetInt32());
    }
}
