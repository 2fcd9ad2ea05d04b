namespace Broker.SdkTests.Functional;

/// <summary>Regression tests for broker defects first found through the SDK (both fixed).</summary>
public sealed class BrokerRegressionTests
{
    /// <summary>
    /// The broker as <c>Program.cs</c> composes it must serve gRPC. It once did not: <c>BrokerGrpcService</c>'s
    /// constructor was internal, which DI cannot call, so every gRPC call failed.
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
    /// Broker:DrainTimeout". Before the drain existed, an open Subscribe stream kept the host's stop waiting and
    /// the SDK, which reconnects on UNAVAILABLE, was never told.
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
        // The SDK learns of the stream's end on its own thread, possibly after the stop returned: wait for it.
        await subscription.WaitReconnectingAsync();
        Assert.True(subscription.Reconnects >= 1, "The subscription should have seen its stream end and tried to reconnect.");
    }
}
