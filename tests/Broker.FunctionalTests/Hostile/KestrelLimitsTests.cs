using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// Kestrel's own limits are set from configuration as ASP.NET Core users expect (<c>Kestrel:Limits:*</c>), and a
/// configured value wins over the broker's HTTP/2 defaults for gRPC (README, "Limits and hardening").
/// </summary>
public sealed class KestrelLimitsTests
{
    [Fact]
    public async Task KestrelLimitsFromConfiguration_WinOverTheBrokersDefaults_AndTheRestKeepThem()
    {
        await using (var configured = await BrokerServer.StartAsync(new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "5000",
            ["Kestrel:Limits:MaxRequestHeadersTotalSize"] = "65536",
            ["Kestrel:Limits:Http2:MaxStreamsPerConnection"] = "10",
            ["Kestrel:Limits:Http2:KeepAlivePingDelay"] = "00:00:30",
        }))
        {
            var limits = configured.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
            Assert.Equal(5000, limits.MaxConcurrentConnections);
            Assert.Equal(65536, limits.MaxRequestHeadersTotalSize);
            Assert.Equal(10, limits.Http2.MaxStreamsPerConnection);
            Assert.Equal(TimeSpan.FromSeconds(30), limits.Http2.KeepAlivePingDelay);
            Assert.Equal(Broker.Grpc.GrpcKestrelLimits.KeepAlivePingTimeout, limits.Http2.KeepAlivePingTimeout);
        }

        await using var plain = await BrokerServer.StartAsync();
        var defaults = plain.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Null(defaults.MaxConcurrentConnections);
        Assert.Equal(Broker.Grpc.GrpcKestrelLimits.MaxStreamsPerConnection, defaults.Http2.MaxStreamsPerConnection);
        Assert.Equal(Broker.Grpc.GrpcKestrelLimits.KeepAlivePingDelay, defaults.Http2.KeepAlivePingDelay);
    }
}
