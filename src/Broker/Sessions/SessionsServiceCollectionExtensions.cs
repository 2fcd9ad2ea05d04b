using Broker.Sessions.Internal;
using Broker.Sessions.Redis;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Broker.Sessions;

/// <summary>Registers sessions, tickets and the origin rule.</summary>
public static class SessionsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="BrokerSessionOptions"/> (bound from the <c>Broker</c> section, validated at start),
    /// Data Protection, the default <see cref="InMemorySessionStore"/> and <see cref="InMemoryTicketStore"/> (each
    /// unless an <see cref="ISessionStore"/> or <see cref="ITicketStore"/> is already registered), <see cref="SessionResolver"/>, <see cref="OriginPolicy"/>, <see cref="TicketService"/>
    /// and <see cref="TimeProvider.System"/> (unless a <see cref="TimeProvider"/> is already registered). When
    /// <c>Broker:Engine</c> is <c>Redis</c>, the stores and the key ring are Redis's instead
    /// (<see cref="RedisSessionsServiceCollectionExtensions.AddBrokerRedisSessions"/>).
    /// </summary>
    public static IServiceCollection AddBrokerSessions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<BrokerSessionOptions>()
            .Bind(configuration.GetSection(BrokerSessionOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BrokerSessionOptions>, BrokerSessionOptionsValidator>());

        // The cookie's protection: ASP.NET Core's key ring (persisted per machine by default; see docs/sessions.md).
        services.AddDataProtection();
        services.TryAddSingleton(TimeProvider.System);
        if (RedisSessionsOptions.IsSelected(configuration))
        {
            // A cluster: sessions, tickets and the key ring are the cluster's (PROTOCOL.md, "Running several brokers").
            services.AddBrokerRedisSessions(RedisSessionsOptions.From(configuration));
        }

        services.TryAddSingleton<ISessionStore>(static provider => new InMemorySessionStore(
            provider.GetRequiredService<IOptions<BrokerSessionOptions>>().Value.Sessions, provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ITicketStore, InMemoryTicketStore>();
        services.TryAddSingleton<SessionResolver>();
        services.TryAddSingleton<OriginPolicy>();
        services.TryAddSingleton<TicketService>();
        // Sweeps expired sessions and keeps the sessions of open sockets in use; ends a session's sockets (4003).
        services.AddHostedService<SessionExpiryService>();
        return services;
    }
}
