using Broker.Sessions.Redis.Internal;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Broker.Sessions.Redis;

/// <summary>Puts sessions, tickets and the Data Protection key ring in Redis, for a cluster of brokers.</summary>
public static class RedisSessionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RedisSessionStore"/> as the <see cref="ISessionStore"/> and <see cref="RedisTicketStore"/>
    /// as the <see cref="ITicketStore"/> (each unless one is already registered), keeps the Data Protection key
    /// ring in Redis under the fixed application name <see cref="RedisSessionsOptions.ApplicationName"/>, and
    /// adds the process's one <see cref="IConnectionMultiplexer"/> unless one is already registered (the Redis
    /// engine shares it). <c>AddBrokerSessions</c> calls this when <c>Broker:Engine</c> is <c>Redis</c>; call it
    /// before <c>AddBrokerSessions</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="RedisSessionsOptions.Prefix"/> is empty.</exception>
    public static IServiceCollection AddBrokerRedisSessions(this IServiceCollection services, RedisSessionsOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Prefix))
        {
            throw new InvalidOperationException("Broker:Redis:Prefix must not be empty: it is the first segment of every key the broker writes.");
        }

        var configuration = options.Configuration;
        var prefix = options.Prefix;
        services.TryAddSingleton<IConnectionMultiplexer>(_ => Connect(configuration));
        services.TryAddSingleton<ISessionStore>(provider => new RedisSessionStore(
            provider.GetRequiredService<IConnectionMultiplexer>(),
            prefix,
            provider.GetService<IOptions<BrokerSessionOptions>>()?.Value.Sessions ?? new SessionStoreOptions(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton<ITicketStore>(provider => new RedisTicketStore(provider.GetRequiredService<IConnectionMultiplexer>(), prefix));

        // Every node must read every other node's keys: one ring in Redis, one application name (the default name
        // comes from the content root path, which differs between machines and would isolate each node's cookies).
        services.AddDataProtection().SetApplicationName(RedisSessionsOptions.ApplicationName);
        var keyRing = new RedisKeys(prefix).KeyRing;
        services.AddOptions<KeyManagementOptions>()
            .Configure<IConnectionMultiplexer>((keys, redis) => keys.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), keyRing));
        return services;
    }

    private static ConnectionMultiplexer Connect(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        // Start even while Redis is down and keep reconnecting: the node comes up not ready rather than not at all.
        options.AbortOnConnectFail = false;
        return ConnectionMultiplexer.Connect(options);
    }
}
