using Broker.Core.Cluster;
using Broker.Core.Handlers;
using Broker.Core.Internal;
using Broker.Diagnostics;
using Broker.Engines.InMemory;
using Broker.Engines;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Broker.Core;

/// <summary>Registers the transport-agnostic core.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the core: <see cref="BrokerOptions"/> bound from <c>Broker</c> and validated at start, the
    /// namespace registry, the metrics, the engine (in-memory unless another <see cref="IEngine"/> was
    /// registered first), the <see cref="Hub"/>, the <see cref="ConnectionRegistry"/>, the node-to-node
    /// <see cref="ClusterControl"/> and the front door, <see cref="BrokerNode"/>.
    /// </summary>
    public static IServiceCollection AddBrokerCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(BrokerOptions.SectionName);
        services.AddOptions<BrokerOptions>()
            .Bind(section)
            .PostConfigure(options => BindNamespaces(section.GetSection(nameof(BrokerOptions.Namespaces)), options.Namespaces))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BrokerOptions>, BrokerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<BrokerMetrics>();
        services.TryAddSingleton<NamespaceRegistry>();
        services.AddBrokerEngine(configuration);
        services.TryAddSingleton<Hub>();
        services.TryAddSingleton<ConnectionRegistry>();
        services.TryAddSingleton<BrokerNode>();
        services.AddOptions<HandlerOptions>().Bind(configuration.GetSection(HandlerOptions.SectionName))
            .Validate(static o => o.Timeout > TimeSpan.Zero, "Broker:Handlers:Timeout must be a positive TimeSpan.")
            .Validate(static o => o.DefaultMaxInFlight > 0, "Broker:Handlers:DefaultMaxInFlight must be greater than 0.")
            .ValidateOnStart();
        services.TryAddSingleton<HandlerRegistry>();
        services.TryAddSingleton<ClusterControl>();
        services.AddHostedService<HubLifetime>();
        return services;
    }

    /// <summary>
    /// Binds each namespace on its own. The configuration binder silently leaves out a dictionary entry
    /// whose value fails to convert (so <c>Overflow: Sometimes</c> would make the namespace vanish);
    /// binding each entry as an object throws instead, with the setting's path in the message.
    /// </summary>
    private static void BindNamespaces(IConfigurationSection namespaces, Dictionary<string, NamespaceOptions> into)
    {
        into.Clear();
        foreach (var child in namespaces.GetChildren())
        {
            var options = new NamespaceOptions();
            child.Bind(options);
            into[child.Key] = options;
        }
    }
}
