using Broker.Stats.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Stats;

/// <summary>Registers <c>/stats</c> and the observable instruments, which read every feature below them.</summary>
public static class StatsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="NodeOptions"/> (bound from <c>Broker</c>, validated at start), <see cref="NodeIdentity"/>,
    /// <see cref="BrokerGauges"/> and <see cref="StatsSampler"/>. Call after the transports and sessions are added.
    /// </summary>
    public static IServiceCollection AddBrokerStats(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<NodeOptions>().Bind(configuration.GetSection(NodeOptions.SectionName))
            .Validate(static o => o.NodeName is null || NodeIdentity.IsValidName(o.NodeName), "Broker:NodeName must be 1-64 of [A-Za-z0-9_.-].")
            .ValidateOnStart();
        services.TryAddSingleton<NodeIdentity>();
        services.TryAddSingleton<BrokerGauges>();
        services.TryAddSingleton<StatsSampler>();
        services.AddHostedService<StatsLifetime>();
        return services;
    }
}
