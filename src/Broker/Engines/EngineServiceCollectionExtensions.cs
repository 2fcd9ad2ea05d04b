using Broker.Engines.InMemory;
using Broker.Engines.Redis.Internal;
using Broker.Engines.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Broker.Engines;

/// <summary>Registers the engine that <c>Broker:Engine</c> names.</summary>
public static class EngineServiceCollectionExtensions
{
    /// <summary>The configuration key that selects the engine: <c>InMemory</c> (default) or <c>Redis</c>.</summary>
    public const string EngineKey = "Broker:Engine";

    /// <summary>
    /// Registers <see cref="IEngine"/>: the <see cref="InMemoryEngine"/> unless <c>Broker:Engine</c> is
    /// <c>Redis</c>, then the <see cref="RedisEngine"/> with <see cref="RedisEngineOptions"/> bound from
    /// <c>Broker:Redis</c> and validated at start. An engine registered before this call wins (tests).
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>Broker:Engine</c> names no engine.</exception>
    public static IServiceCollection AddBrokerEngine(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var engine = configuration[EngineKey];
        if (string.IsNullOrEmpty(engine) || string.Equals(engine, "InMemory", StringComparison.OrdinalIgnoreCase))
        {
            services.TryAddSingleton<IEngine, InMemoryEngine>();
            return services;
        }

        if (string.Equals(engine, "Redis", StringComparison.OrdinalIgnoreCase))
        {
            services.AddOptions<RedisEngineOptions>()
                .Bind(configuration.GetSection(RedisEngineOptions.SectionName))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisEngineOptions>, RedisEngineOptionsValidator>());
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<IEngine, RedisEngine>();
            return services;
        }

        throw new InvalidOperationException($"{EngineKey} is '{engine}': it must be 'InMemory' or 'Redis'.");
    }
}
