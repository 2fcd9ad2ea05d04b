using System.Text.Json;
using System.Text;
using Broker.Core;
using Broker.Engines.InMemory;
using Broker.Engines;
using Broker.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Telemetry;

/// <summary><c>/stats</c> and <c>/readyz</c> on a real broker.</summary>
public class StatsTests
{
    [Fact]
    public async Task StatsReportCountsAndRatesFromTheSampledWindow()
    {
        var clock = new ManualTimeProvider();
        // The dashboard feed off: its snapshot a second would count among the publications.
        await using var server = await BrokerServer.StartAsync(With(("Broker:Dashboard:Enabled", "false")), timeProvider: clock);
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SubscribeAsync("chat:a");
        var hub = server.Services.GetRequiredService<Hub>();
        for (int i = 0; i < 10; i++)
        {
            await hub.PublishAsync(new PublishCommand("chat:a", "message", Encoding.UTF8.GetBytes("1")), default);
        }

        // Ten publications within the last two seconds of the sampler's window.
        clock.Advance(TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        using var web = server.CreateWebClient();
        var response = await web.GetAsync("/stats");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var stats = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = stats.RootElement;
        Assert.Equal(1, root.GetProperty("connections").GetProperty("websocket").GetInt32());
        Assert.True(root.GetProperty("sessions").GetInt32() >= 1);
        Assert.True(root.GetProperty("channels").GetInt32() >= 1);  // chat:a and the socket's personal channels
        Assert.True(root.GetProperty("subscriptions").GetInt32() >= 1);
        Assert.Equal(10, root.GetProperty("publications").GetInt64());
        Assert.Equal(10, root.GetProperty("deliveries").GetInt64());
        Assert.Equal(5.0, root.GetProperty("publicationsPerSecond").GetDouble());
        Assert.Equal(5.0, root.GetProperty("deliveriesPerSecond").GetDouble());
        Assert.Equal(0, root.GetProperty("drops").GetProperty("total").GetInt64());
        Assert.True(root.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task StatsNameTheConfiguredNode()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:NodeName", "web-1.eu")));
        using var web = server.CreateWebClient();
        using var stats = JsonDocument.Parse(await web.GetStringAsync("/stats"));
        Assert.Equal("web-1.eu", stats.RootElement.GetProperty("node").GetString());
        // Beside the name, the id the engine knows the node by (random, not the name).
        string? engineNode = stats.RootElement.GetProperty("engineNode").GetString();
        Assert.False(string.IsNullOrEmpty(engineNode));
        Assert.NotEqual("web-1.eu", engineNode);
    }

    [Fact]
    public async Task StatsNameADefaultNode_TheMachineNameAndAnIdThatStaysForTheProcess_AndDiffersBetweenBrokers()
    {
        await using var first = await BrokerServer.StartAsync(With());
        await using var second = await BrokerServer.StartAsync(With());
        using var web1 = first.CreateWebClient();
        using var web2 = second.CreateWebClient();

        async Task<string> NodeAsync(HttpClient web)
        {
            using var stats = JsonDocument.Parse(await web.GetStringAsync("/stats"));
            return stats.RootElement.GetProperty("node").GetString()!;
        }

        var name = await NodeAsync(web1);
        var host = Environment.MachineName.ToLowerInvariant();
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(host[..Math.Min(host.Length, 57)])}-[0-9a-f]{{6}}$", name);
        Assert.Equal(name, await NodeAsync(web1));
        Assert.NotEqual(name, await NodeAsync(web2));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("<script>")]
    [InlineData("a-name-longer-than-sixty-four-characters-is-refused-at-start-xxxxx")]
    public async Task ABadNodeName_StopsTheBrokerAtStart_NamingTheSetting(string name)
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => BrokerServer.StartAsync(With(("Broker:NodeName", name))));
        Assert.Contains("Broker:NodeName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadyzIsUnavailableWhileTheEngineIsUnhealthy()
    {
        var engine = new SwitchableEngine();
        await using var server = await BrokerServer.StartAsync(With(), configure: builder =>
            builder.Services.Replace(ServiceDescriptor.Singleton<IEngine>(sp => engine.Wrap(new InMemoryEngine(TimeProvider.System)))));
        using var web = server.CreateWebClient();
        Assert.Equal(HttpStatusCode.OK, (await web.GetAsync("/readyz")).StatusCode);
        engine.Healthy = false;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await web.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await web.GetAsync("/healthz")).StatusCode);
        engine.Healthy = true;
        Assert.Equal(HttpStatusCode.OK, (await web.GetAsync("/readyz")).StatusCode);
    }

    /// <summary>The in-memory engine, with a health switch.</summary>
    private sealed class SwitchableEngine : DelegatingEngine
    {
        public volatile bool Healthy = true;

        public override bool IsHealthy => Healthy;
    }
}
