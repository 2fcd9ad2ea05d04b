using Broker.Lifecycle.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Broker.Lifecycle;

/// <summary>Registers the graceful drain.</summary>
public static class LifecycleServiceCollectionExtensions
{
    /// <summary>
    /// Time the host gives hosted services (Kestrel's included) beyond the drain: the drain ends at
    /// <see cref="DrainOptions.DrainTimeout"/>, then Kestrel closes what is idle and aborts the rest.
    /// </summary>
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(5);

    /// <summary>Adds <see cref="DrainState"/>, the hosted service that drains on stop, and a host shutdown timeout that covers the drain.</summary>
    public static IServiceCollection AddBrokerLifecycle(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DrainOptions>().Bind(configuration.GetSection(DrainOptions.SectionName))
            .Validate(static o => o.DrainTimeout > TimeSpan.Zero, "Broker:DrainTimeout must be a positive TimeSpan.")
            .ValidateOnStart();
        services.TryAddSingleton<DrainState>();
        services.AddHostedService<DrainLifetime>();
        services.AddOptions<HostOptions>().Configure<IOptions<DrainOptions>>(static (host, drain) =>
        {
            var needed = drain.Value.DrainTimeout + ShutdownMargin;
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        return services;
    }
}
