namespace Broker.Tests;

public class SmokeTests
{
    [Fact]
    public void ContractTypesAreGenerated() => Assert.Equal("broker.v1.Broker", Broker.V1.BrokerReflection.Descriptor.Services[0].FullName);
}
