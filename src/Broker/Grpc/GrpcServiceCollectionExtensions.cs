using Broker.Grpc.Internal;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Broker.Grpc;

/// <summary>Registers the backend transport: Grpc.AspNetCore and the <c>broker.v1.Broker</c> service on it.</summary>
public static class GrpcServiceCollectionExtensions
{
    /// <summary>The largest request message, in bytes: 4 MiB, PROTOCOL.md's limit (larger: <c>RESOURCE_EXHAUSTED</c>).</summary>
    public const int MaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>
    /// Adds Grpc.AspNetCore with the broker's interceptor (API key, drain, stream metrics), Kestrel's HTTP/2 limits
    /// for gRPC, and the <c>broker.v1.Broker</c> service, with <c>Broker:Grpc</c> options. <c>MapBroker</c> maps it.
    /// </summary>
    public static IServiceCollection AddBrokerGrpc(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GrpcServiceOptions>()
            .Bind(configuration.GetSection(GrpcServiceOptions.SectionName))
            .Validate(static o => o.DefaultSubscribeBuffer > 0, "Broker:Grpc:DefaultSubscribeBuffer must be greater than 0.")
            .Validate(static o => o.MaxSubscriptionsPerStream > 0, "Broker:Grpc:MaxSubscriptionsPerStream must be greater than 0.")
            .Validate(static o => o.MaxHandlerEvents > 0, "Broker:Grpc:MaxHandlerEvents must be greater than 0.")
            .ValidateOnStart();
        services.AddGrpc(static grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxReceiveMessageSize;
            // Sent messages are the broker's own and bounded by MaxMessageBytes; no second limit (grpc-core's default too).
            grpc.MaxSendMessageSize = null;
            grpc.Interceptors.Add<BrokerCallInterceptor>();
        });
        services.Configure<KestrelServerOptions>(static kestrel => kestrel.ConfigureGrpcLimits());
        services.TryAddSingleton<ApiKeyAuthenticator>();
        // Singletons: Grpc.AspNetCore takes the service and the interceptor from DI when registered there, instead
        // of creating one per call.
        services.TryAddSingleton<BrokerCallInterceptor>();
        services.TryAddSingleton<BrokerGrpcService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<BrokerGrpcService>, BrokerGrpcService.MethodProvider>());
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
