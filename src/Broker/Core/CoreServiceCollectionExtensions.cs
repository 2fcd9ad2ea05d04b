namespace Broker.Core;

/// <summary>Registers the transport-agnostic core.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>Adds the core services. Placeholder until the core lands.</summary>
    public static IServiceCollection AddBrokerCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services;
    }
}
