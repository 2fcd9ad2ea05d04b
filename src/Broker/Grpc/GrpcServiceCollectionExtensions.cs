using Broker.Grpc.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Broker.Grpc;

/// <summary>Registers the backend transport: the gRPC wire (Transport/) and the Broker service on it.</summary>
public static class GrpcServiceCollectionExtensions
{
    /// <summary>Adds the gRPC transport and the <c>broker.v1.Broker</c> service, with <c>Broker:Grpc</c> options.</summary>
    public static IServiceCollection AddBrokerGrpc(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GrpcServiceOptions>()
            .Bind(configuration.GetSection(GrpcServiceOptions.SectionName))
            .Validate(static o => o.DefaultSubscribeBuffer > 0, "Broker:Grpc:DefaultSubscribeBuffer must be greater than 0.")
            .ValidateOnStart();
        services.AddGrpcTransport();
        services.TryAddSingleton<ApiKeyAuthenticator>();
        services.TryAddSingleton<BrokerGrpcService>();
        services.AddGrpcTransportService<BrokerGrpcService>(static s => s.Bind());
        services.AddHostedService<LoopbackWarning>();
        return services;
    }

    /// <summary>Says at start when gRPC is open to loopback only (PROTOCOL.md, "Running the broker").</summary>
    private sealed class LoopbackWarning(ApiKeyAuthenticator auth, ILogger<BrokerGrpcService> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (auth.LoopbackOnly)
            {
                GrpcServiceLog.LoopbackOnly(logger);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
