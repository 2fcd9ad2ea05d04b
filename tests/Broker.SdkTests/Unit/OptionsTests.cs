namespace Broker.SdkTests.Unit;

public sealed class OptionsTests
{
    [Fact]
    public void AddBrokerClient_binds_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BrokerClient:Address"] = "https://broker.example:9443",
            ["BrokerClient:ApiKey"] = "k1",
            ["BrokerClient:DefaultDeadline"] = "00:00:03",
            ["BrokerClient:ReconnectMaxBackoff"] = "00:00:30",
            ["BrokerClient:PublisherMaxInFlight"] = "8",
        }).Build();
        using var services = new ServiceCollection().AddBrokerClient(configuration.GetSection("BrokerClient")).BuildServiceProvider();
        var client = services.GetRequiredService<BrokerClient>();
        Assert.Equal(new Uri("https://broker.example:9443"), client.Options.Address);
        Assert.Equal("k1", client.Options.ApiKey);
        Assert.Equal(TimeSpan.FromSeconds(3), client.Options.DefaultDeadline);
        Assert.Equal(TimeSpan.FromSeconds(30), client.Options.ReconnectMaxBackoff);
        Assert.Equal(8, client.Options.PublisherMaxInFlight);
        Assert.Same(client, services.GetRequiredService<BrokerClient>());
    }

    [Fact]
    public void AddBrokerClient_takes_code_configuration()
    {
        using var services = new ServiceCollection().AddBrokerClient(o => o.ApiKey = "k2").BuildServiceProvider();
        Assert.Equal("k2", services.GetRequiredService<BrokerClient>().Options.ApiKey);
    }

    [Fact]
    public void AddBrokerClient_refuses_bad_settings()
    {
        using var services = new ServiceCollection().AddBrokerClient(o => o.Address = new Uri("ftp://x")).BuildServiceProvider();
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => services.GetRequiredService<BrokerClient>());
    }

    [Theory]
    [InlineData(StatusCode.InvalidArgument, "bad_request")]
    [InlineData(StatusCode.Unauthenticated, "unauthorized")]
    [InlineData(StatusCode.ResourceExhausted, "too_large")]
    [InlineData(StatusCode.NotFound, "not_found")]
    [InlineData(StatusCode.DeadlineExceeded, "timeout")]
    [InlineData(StatusCode.Unavailable, "unavailable")]
    public void BrokerException_names_the_broker_code_of_a_status(StatusCode status, string code)
    {
        var error = BrokerException.FromRpc(new RpcException(new Status(status, "detail")));
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(code, error.ErrorCode);
        Assert.Contains("detail", error.Message, StringComparison.Ordinal);
        Assert.Equal(status == StatusCode.Unavailable, error.IsRetriable);
    }
}
