using Broker.Grpc.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// In the DI namespace, as grpc-dotnet's AddGrpc is, so the broker's composition needs no extra using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the gRPC server transport and the services it serves.</summary>
public static class GrpcTransportServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gRPC server transport: its options (validated at start) and Kestrel's HTTP/2 limits for gRPC
    /// (<see cref="GrpcTransportKestrelExtensions.ConfigureGrpcTransportLimits"/>). Map it with <c>MapGrpcTransport</c>.
    /// </summary>
    public static IServiceCollection AddGrpcTransport(this IServiceCollection services, Action<GrpcTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<GrpcTransportOptions>()
            .Validate(static o => o.MaxReceiveMessageSize > 0 && o.MaxSendMessageSize > 0, "Message size limits must be positive.")
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.Configure<KestrelServerOptions>(static kestrel => kestrel.ConfigureGrpcTransportLimits());
        return services;
    }

    /// <summary>Registers a service definition for <c>MapGrpcTransport</c> to map.</summary>
    public static IServiceCollection AddGrpcTransportService(this IServiceCollection services, ServerServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return services.AddSingleton(definition);
    }

    /// <summary>
    /// Registers a service implemented by <typeparamref name="TService"/> (resolved once from DI, so register it
    /// as a singleton) and bound to its methods by <paramref name="bind"/>, as Grpc.Core's generated
    /// <c>BindService</c> does.
    /// </summary>
    public static IServiceCollection AddGrpcTransportService<TService>(this IServiceCollection services, Func<TService, ServerServiceDefinition> bind)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(bind);
        return services.AddSingleton(sp => bind(sp.GetRequiredService<TService>()));
    }
}
