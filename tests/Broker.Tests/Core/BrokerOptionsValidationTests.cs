using Broker.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Broker.Tests.Core;

/// <summary>Bad configuration stops the broker at start with a message that names the setting.</summary>
public class BrokerOptionsValidationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("Broker:Namespaces:chat:HistorySize", "-1", "Broker:Namespaces:chat:HistorySize")]
    [InlineData("Broker:Namespaces:chat:Overflow", "Sometimes", "Broker:Namespaces:chat:Overflow")]
    [InlineData("Broker:Namespaces:chat:Subscribe", "everybody", "Broker:Namespaces:chat:Subscribe")]
    [InlineData("Broker:Namespaces:chat:HistoryTtl", "00:00:00", "Broker:Namespaces:chat:HistoryTtl")]
    [InlineData("Broker:Namespaces:chat:BufferMessages", "0", "Broker:Namespaces:chat:BufferMessages")]
    [InlineData("Broker:Namespaces:chat:BufferBytes", "1000", "Broker:Namespaces:chat:BufferBytes")]
    [InlineData("Broker:MaxMessageBytes", "0", "Broker:MaxMessageBytes")]
    [InlineData("Broker:Namespaces:bad ns:HistorySize", "1", "Broker:Namespaces:bad ns")]
    public async Task BadSettingStopsStartAndIsNamed(string key, string value, string named)
    {
        using var host = BuildHost(new() { [key] = value });
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync().WaitAsync(Timeout));
        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GoodSettingsStart()
    {
        using var host = BuildHost(new()
        {
            ["Broker:Namespaces:chat:HistorySize"] = "100",
            ["Broker:Namespaces:chat:Overflow"] = "Disconnect",
            ["Broker:Namespaces:chat:Subscribe"] = "anyone",
            ["Broker:Namespaces:chat:HistoryTtl"] = "00:10:00",
        });
        await host.StartAsync().WaitAsync(Timeout);
        var registry = host.Services.GetRequiredService<NamespaceRegistry>();
        var chat = registry.Resolve("chat:x")!;
        Assert.Equal(OverflowPolicy.Disconnect, chat.Overflow);
        Assert.Equal(Permission.Anyone, chat.Subscribe);
        Assert.Equal(TimeSpan.FromMinutes(10), chat.HistoryTtl);
        await host.StopAsync().WaitAsync(Timeout);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddBrokerCore(builder.Configuration);
        return builder.Build();
    }
}
