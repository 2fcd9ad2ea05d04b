using Broker.Core;
using Broker.Demo;
using Broker.Grpc;
using Broker.Lifecycle;
using Broker.Sessions;
using Broker.Telemetry;
using Broker.WebSockets;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the broker's services.</summary>
public static class BrokerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the broker: options bound from the <c>Broker</c> section and validated at start, the core,
    /// the engine and the transports.
    /// </summary>
    public static IServiceCollection AddBroker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddBrokerCore(configuration);
        services.AddBrokerLifecycle();
        services.AddBrokerSessions(configuration);
        services.AddBrokerWebSockets(configuration);
        services.AddOptions<DemoOptions>().Bind(configuration.GetSection(DemoOptions.SectionName));
        services.AddBrokerGrpc(configuration);
        services.AddBrokerTelemetry(configuration);
        return services;
    }
}
