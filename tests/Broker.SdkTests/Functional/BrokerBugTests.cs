namespace Broker.SdkTests.Functional;

/// <summary>Broker defects found through the SDK: regression tests once fixed, failing tests until then.</summary>
public sealed class BrokerBugTests
{
    /// <summary>
    /// The broker as <c>Program.cs</c> composes it must serve gRPC. Failed on main 9628601: <c>AddBrokerGrpc</c> built
    /// <c>BrokerGrpcService</c> with <c>ActivatorUtilities.CreateInstance</c>, which needs a public constructor, and
    /// the constructor was internal (fixed on main since).
    /// </summary>
    [Fact]
    public async Task The_broker_as_composed_by_AddBroker_serves_gRPC()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?>
        {
            ["Broker:Namespaces:chat:HistorySize"] = "10",
        });
        await using var client = SdkTestBroker.Client(server);
        var result = await client.PublishAsync("chat:lobby", SdkTestBroker.Json("1")).WaitAsync(SdkTestBroker.Timeout);
        Assert.Equal(1UL, result.Offset);
    }

    /// <summary>
    /// PROTOCOL.md, "Running the broker": stopping drains, and "gRPC streams end with UNAVAILABLE, all within
    /// Broker:DrainTimeout". Fails on main 9628601: nothing reads DrainTimeout or ApplicationStopping, so an open
    /// Subscribe stream keeps the host's stop waiting (here past the fixture's 15 s), and the SDK, which would
    /// reconnect on UNAVAILABLE, is never told.
    /// </summary>
    [Fact]
    public async Task Stopping_the_broker_ends_gRPC_subscriptions_with_UNAVAILABLE_within_DrainTimeout()
    {
        var server = await SdkTestBroker.StartAsync(("Broker:DrainTimeout", "00:00:01"));
        await using var client = SdkTestBroker.Client(server);
        await using var subscription = await LiveSubscription.StartAsync(client, ["chat:lobby"]);
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            await server.DisposeAsync();
        }
        catch (TimeoutException)
        {
            Assert.Fail("The broker did not stop within 15 s while a gRPC subscription was open (DrainTimeout is 1 s).");
        }

        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "Stopping must take about DrainTimeout.");
        Assert.True(subscription.Reconnects >= 1, "The subscription should have seen its stream end and tried to reconnect.");
    }
}
