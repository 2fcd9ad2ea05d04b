using Broker.Engines;
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
        var operationTimeout = options.OperationTimeout;
        services.TryAddSingleton<IConnectionMultiplexer>(_ => Connect(configuration, operationTimeout));
        // The one place both stores meet Redis's failures (RedisStoreCalls). The engine's liveness probe is the
        // cheapest honest answer to "is Redis there": it notices a frozen Redis in 3 s, a connection only per timeout.
        services.TryAddSingleton(static provider =>
        {
            var engine = provider.GetService<IEngine>();
            return new RedisStoreCalls(
                provider.GetRequiredService<IConnectionMultiplexer>(),
                engine is null ? null : () => engine.IsHealthy,
                provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RedisSessionStore).Namespace!),
                provider.GetService<TimeProvider>() ?? TimeProvider.System);
        });
        services.TryAddSingleton<ISessionStore>(provider => new RedisSessionStore(
            provider.GetRequiredService<RedisStoreCalls>(),
            prefix,
            provider.GetService<IOptions<BrokerSessionOptions>>()?.Value.Sessions ?? new SessionStoreOptions(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddSingleton<ITicketStore>(provider => new RedisTicketStore(provider.GetRequiredService<RedisStoreCalls>(), prefix));

        // Every node must read every other node's keys: one ring in Redis, one application name (the default name
        // comes from the content root path, which differs between machines and would isolate each node's cookies).
        services.AddDataProtection().SetApplicationName(RedisSessionsOptions.ApplicationName);
        var keyRing = new RedisKeys(prefix).KeyRing;
        services.AddOptions<KeyManagementOptions>()
            .Configure<IConnectionMultiplexer, RedisStoreCalls>((keys, redis, calls) =>
                keys.XmlRepository = new RedisKeyRingRepository(calls, new RedisXmlRepository(() => redis.GetDatabase(), keyRing)));
        return services;
    }

    private static ConnectionMultiplexer Connect(string configuration, TimeSpan operationTimeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        // Start even while Redis is down and keep reconnecting: the node comes up not ready rather than not at all.
        options.AbortOnConnectFail = false;
        // As the engine's connection: a command waits at most the operation timeout (then the caller answers
        // unavailable), a connect attempt gives up within 5 s, and a lost connection is retried every 0.5 s, so
        // sessions come back within a second of Redis (the default backs off to 10 s between attempts).
        var timeoutMs = (int)Math.Ceiling(operationTimeout.TotalMilliseconds);
        options.AsyncTimeout = timeoutMs;
        options.SyncTimeout = timeoutMs;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 5000);
        options.ConnectRetry = 1;  // one attempt at start, as the engine's: the default 3 blocks a start without Redis for 15 s
        options.ReconnectRetryPolicy = new LinearRetry(500);
        return ConnectionMultiplexer.Connect(options);
    }
}
