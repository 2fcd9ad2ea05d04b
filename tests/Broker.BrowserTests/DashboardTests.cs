using System.Net.WebSockets;
using System.Text.RegularExpressions;
using System.Text;
using Broker.BrowserTests.Infrastructure;
using Broker.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Broker.BrowserTests;

/// <summary>The live dashboard at <c>/dashboard</c>, in Chromium, fed over the broker's own WebSocket while a load runs.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class DashboardTests(BrowserFixture browser) : BrowserTest(browser)
{
    private const string NodeName = "dash-node";

    public override Task InitializeAsync() => StartBrokerAsync(new Dictionary<string, string?> { ["Broker:Dashboard:Enabled"] = "true", ["Broker:NodeName"] = NodeName });

    [Fact]
    public async Task The_dashboard_draws_live_charts_and_says_the_broker_is_healthy()
    {
        // The load: a subscriber socket on chat:load, and publications through the hub every 20 ms.
        using var stop = new CancellationTokenSource();
        await using var subscriber = await LoadSubscriber.StartAsync(Server, "chat:load", stop.Token);
        var load = Task.Run(async () =>
        {
            int n = 0;
            while (!stop.IsCancellationRequested)
            {
                await Server.PublishAsync("chat:load", new { n = n++ });
                await Task.Delay(20, CancellationToken.None);
            }
        });

        try
        {
            await using var page = await NewPageAsync();
            await page.Page.SetViewportSizeAsync(1280, 860);
            await page.Page.GotoAsync("/dashboard");
            var p = page.Page;
            await Expect(p.GetByTestId("status")).ToHaveAttributeAsync("data-status", "healthy");
            await Expect(p.GetByTestId("node")).ToHaveTextAsync($"node {NodeName}");
            await Expect(p.GetByTestId("nodes")).ToBeHiddenAsync();  // one broker: no other node to offer
            // Non-empty charts: several snapshots drawn, and messages flowing in and out.
            await Expect(p.GetByTestId("chart-messages")).ToHaveAttributeAsync("data-points", ManyPoints());
            await Expect(p.GetByTestId("chart-connections")).ToHaveAttributeAsync("data-points", ManyPoints());
            await Expect(p.GetByTestId("tile-in")).Not.ToHaveTextAsync(new Regex("^(–|0)$"));
            await Expect(p.GetByTestId("tile-out")).Not.ToHaveTextAsync(new Regex("^(–|0)$"));
            await Expect(p.GetByTestId("tile-connections")).Not.ToHaveTextAsync("–");
            await Expect(p.GetByTestId("chart-messages")).Not.ToHaveAttributeAsync("data-max", "1");
            await page.ScreenshotAsync("dashboard");
            await p.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark }).WaitAsync(BrowserFixture.Timeout);
            await p.EvaluateAsync("() => new Promise(requestAnimationFrame)").WaitAsync(BrowserFixture.Timeout);
            await page.ScreenshotAsync("dashboard-dark");

            // No CDN, no web fonts: everything the page fetched came from the broker.
            Assert.All(page.RequestedUrls, url => Assert.StartsWith(Server.WebAddress.GetLeftPart(UriPartial.Authority), url, StringComparison.Ordinal));
        }
        finally
        {
            await stop.CancelAsync();
            await load.WaitAsync(BrowserFixture.Timeout);
        }
    }

    [Fact]
    public async Task In_a_cluster_the_dashboard_draws_the_node_that_served_it_and_links_to_the_others()
    {
        // Every node of a cluster publishes its snapshots to the one shared $broker:stats: here a snapshot of
        // another node, as its broker would have published it, with a connection count this one does not have.
        using var web = Server.CreateWebClient();
        var other = System.Text.Json.Nodes.JsonNode.Parse(await web.GetStringAsync("/stats").WaitAsync(BrowserFixture.Timeout))!;
        other["node"] = "other-node";
        other["connections"]!["total"] = 777;
        await Server.PublishAsync("$broker:stats", other, "stats");

        await using var page = await NewPageAsync();
        var p = page.Page;
        await p.GotoAsync("/dashboard");
        await Expect(p.GetByTestId("node")).ToHaveTextAsync($"node {NodeName}");
        await Expect(p.GetByTestId("status")).ToHaveAttributeAsync("data-status", "healthy");
        var link = p.GetByTestId("nodes").GetByRole(AriaRole.Link, new() { Name = "other-node" });
        await Expect(link).ToBeVisibleAsync();
        await Expect(p.GetByTestId("tile-connections")).Not.ToHaveTextAsync("777");

        // Following the link draws the other node's snapshots, and offers this one.
        await link.ClickAsync();
        await Expect(p).ToHaveURLAsync(new Regex(@"[?&]node=other-node$"));
        await Expect(p.GetByTestId("node")).ToHaveTextAsync("node other-node");
        await Expect(p.GetByTestId("tile-connections")).ToHaveTextAsync("777");
        await Expect(p.GetByTestId("nodes").GetByRole(AriaRole.Link, new() { Name = NodeName })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_dashboard_is_not_served_unless_enabled()
    {
        // Explicitly off: the test broker runs as Development, whose appsettings turn the dashboard on.
        await using var off = await TestBroker.StartAsync(new Dictionary<string, string?> { ["Broker:Dashboard:Enabled"] = "false" });
        using var http = off.CreateWebClient();
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/dashboard")).StatusCode);
    }

    [GeneratedRegex("^([5-9]|[1-9][0-9]+)$")]
    private static partial Regex ManyPoints();

    /// <summary>A socket subscribed to a channel that reads (and drops) everything, so the load has deliveries.</summary>
    private sealed class LoadSubscriber : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private Task _reader = Task.CompletedTask;

        public static async Task<LoadSubscriber> StartAsync(BrokerServer server, string channel, CancellationToken stop)
        {
            var tickets = server.Services.GetRequiredService<TicketService>();
            var ticket = (await tickets.IssueAsync(null, "load").AsTask().WaitAsync(BrokerServer.DefaultTimeout)).Ticket!;
            var subscriber = new LoadSubscriber();
            await subscriber._socket.ConnectAsync(new UriBuilder(server.WebAddress) { Scheme = "ws", Path = "/ws" }.Uri, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);
            await subscriber.SendAsync($$"""{"type":"hello","id":1,"ticket":"{{ticket}}"}""");
            await subscriber.SendAsync($$"""{"type":"subscribe","id":2,"channel":"{{channel}}"}""");
            subscriber._reader = subscriber.ReadAsync(stop);
            return subscriber;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _reader.WaitAsync(BrokerServer.DefaultTimeout);
            }
            finally
            {
                _socket.Dispose();
            }
        }

        private Task SendAsync(string frame) =>
            _socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);

        private async Task ReadAsync(CancellationToken stop)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (!stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
                {
                    await _socket.ReceiveAsync(buffer, stop);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (WebSocketException)
            {
            }
        }
    }
}
