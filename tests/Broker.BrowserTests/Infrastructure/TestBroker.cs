using System.Text.Json;
using Broker.Core;
using Broker.Engines;
using Broker.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// The real broker (<see cref="BrokerServer"/>) set up as the demo needs it, serving the repository's
/// src/Broker/wwwroot, plus the controls a backend has over it: publish to a channel and disconnect a
/// session or user (what gRPC <c>Publish</c> and <c>Disconnect</c> do).
/// </summary>
public static class TestBroker
{
    /// <summary>
    /// The demo's configuration: sign-in on, and the <c>chat</c> namespace of src/Broker/appsettings.json
    /// (history, presence, anyone subscribes and publishes). <paramref name="overrides"/> add or replace keys.
    /// </summary>
    public static Task<BrokerServer> StartAsync(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Broker:Demo:Enabled"] = "true",
            ["Broker:Namespaces:chat:HistorySize"] = "100",
            ["Broker:Namespaces:chat:Subscribe"] = "anyone",
            ["Broker:Namespaces:chat:Publish"] = "anyone",
            ["Broker:Namespaces:chat:Presence"] = "true",
            // The broker's own logging stays at Debug in CapturedLog; Information keeps the capture small.
            ["Logging:LogLevel:Default"] = "Information",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return BrokerServer.StartAsync(settings, webRootPath: RepoPaths.WebRoot);
    }

    /// <summary>Publishes as a backend would (gRPC <c>Publish</c>): <paramref name="data"/> serialized to JSON.</summary>
    public static async Task<PublishResult> PublishAsync(this BrokerServer server, string channel, object data, string @event = "message")
    {
        var hub = server.Services.GetRequiredService<Hub>();
        var bytes = JsonSerializer.SerializeToUtf8Bytes(data);
        return await hub.PublishAsync(new PublishCommand(channel, @event, bytes), CancellationToken.None).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
    }

    /// <summary>Closes a session's or user's sockets from the server side (gRPC <c>Disconnect</c>): <c>disconnect</c>, then close 4002.</summary>
    public static int Disconnect(this BrokerServer server, string? sessionId, string? userId, string reason = "test drop", bool reconnect = true) =>
        server.Services.GetRequiredService<Broker.Core.ConnectionRegistry>().Disconnect(sessionId, userId, reason, reconnect);

    /// <summary>
    /// Opens a page of the broker's own origin with <c>/broker.js</c> imported into <c>window.broker</c>. The
    /// broker serves no test page, so the page is <c>/healthz</c> (plain text, no script of its own); a page
    /// Playwright made up would not do: Chromium's local-network-access checks block its WebSockets to loopback.
    /// </summary>
    public static async Task OpenTestPageAsync(IPage page)
    {
        await page.GotoAsync("/healthz").WaitAsync(BrowserFixture.Timeout);
        await page.EvaluateAsync("async () => { window.broker = await import('/broker.js'); }").WaitAsync(BrowserFixture.Timeout);
    }

    /// <summary>The frames of WebSocket messages as text, split on <c>\n</c>.</summary>
    public static string[] Frames(string message) => message.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
