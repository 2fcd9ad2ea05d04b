using Broker.Diagnostics.Internal;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Broker.Diagnostics;

/// <summary>Registers the export of the broker's meter and activity source (the meter itself is the core's).</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>The standard variable (or configuration key) that switches the export on.</summary>
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The standard variable (or configuration key) that chooses <c>grpc</c> or <c>http/protobuf</c>.</summary>
    public const string ProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>
    /// Adds OpenTelemetry with the OTLP exporter for the <c>Broker</c> meter and activity source (and ASP.NET Core's
    /// request activities), when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set as an environment variable or configuration
    /// key; nothing otherwise. The packages read the other <c>OTEL_*</c> settings themselves (protocol, headers,
    /// <c>OTEL_METRIC_EXPORT_INTERVAL</c>, resource attributes) and own the providers' lifetime (a last flush at stop).
    /// </summary>
    public static IServiceCollection AddBrokerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.IsNullOrWhiteSpace(configuration[EndpointKey]))
        {
            return services;
        }

        // OTEL_SERVICE_NAME when set, else "broker" rather than the SDK's "unknown_service:Broker".
        string serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "broker";
        // The specification's default protocol, http/protobuf (the .NET exporter's own default is grpc), unless
        // OTEL_EXPORTER_OTLP_PROTOCOL says otherwise; the exporter then appends /v1/metrics and /v1/traces itself.
        bool protocolSet = !string.IsNullOrWhiteSpace(configuration[ProtocolKey]);
        void Configure(OtlpExporterOptions exporter)
        {
            if (!protocolSet)
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            }
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddMeter(BrokerMetrics.MeterName)
                .AddOtlpExporter(Configure))
            .WithTracing(tracing => tracing
                .AddSource(BrokerTracing.SourceName)
                // ASP.NET Core's own request activities (it reads traceparent), so a publish has its request as parent.
                .AddSource("Microsoft.AspNetCore")
                .AddOtlpExporter(Configure));
        services.AddHostedService<OtlpExportAnnouncer>();
        return services;
    }
}
