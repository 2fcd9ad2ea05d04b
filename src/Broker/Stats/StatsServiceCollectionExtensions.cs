using Broker.Stats.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Stats;

/// <summary>Registers <c>/stats</c> and the observable instruments, which read every feature below them.</summary>
public static class StatsServiceCollectionExtensions
{
    /// <summary>Adds <see cref="BrokerGauges"/> and <see cref="StatsSampler"/>. Call after the transports and sessions are added.</summary>
    public static IServiceCollection AddBrokerStats(this IServiceCollection services)
    {
        services.TryAddSingleton<BrokerGauges>();
        services.TryAddSingleton<StatsSampler>();
        services.AddHostedService<StatsLifetime>();
        return services;
    }
}
