using Broker.Stats;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Diagnostics;

/// <summary>Registers the broker's telemetry beyond the core's <see cref="BrokerMetrics"/>.</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>Adds the observable instruments (<see cref="BrokerGauges"/>). Call after the transports and sessions are added.</summary>
    public static IServiceCollection AddBrokerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton<BrokerGauges>();
        services.TryAddSingleton<StatsSampler>();
        services.AddHostedService<TelemetryLifetime>();
        services.AddHostedService<Broker.Dashboard.DashboardPublisher>();
        return services;
    }
}
