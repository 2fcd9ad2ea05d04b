namespace Broker.SdkTests.Functional;

/// <summary>Broker defects found through the SDK, kept as failing tests until src/Broker is fixed.</summary>
public sealed class BrokerBugTests
{
    /// <summary>
    /// The broker as <c>Program.cs</c> composes it (no test workaround) must serve gRPC. Fails on main 9628601:
    /// <c>AddBrokerGrpc</c> builds <c>BrokerGrpcService</c> with <c>ActivatorUtilities.CreateInstance</c>, which needs
    /// a public constructor, and the constructor is internal.
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
}
