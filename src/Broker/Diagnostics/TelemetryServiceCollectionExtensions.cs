using Broker.Diagnostics.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Diagnostics;

/// <summary>Registers the export of the broker's meter and activity source (the meter itself is the core's).</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>Adds the OTLP export, on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
    public static IServiceCollection AddBrokerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddHostedService<TelemetryLifetime>();
        return services;
    }
}
