using Broker.Diagnostics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OpenTelemetry;

namespace Broker.Diagnostics.Internal;

/// <summary>
/// When <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, owns the OpenTelemetry
/// meter and tracer providers that export the broker's meter and activity source over OTLP (built here:
/// the hosting extensions package is not available to the broker), disposing them (a last flush) at stop.
/// </summary>
internal sealed class TelemetryLifetime(IConfiguration configuration, ILogger<TelemetryLifetime> logger) : IHostedService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _tracer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (OtlpOptions.From(configuration) is { } otlp)
        {
            var resource = ResourceBuilder.CreateDefault().AddService(otlp.ServiceName);
            var protocol = otlp.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
            _meters = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter(BrokerMetrics.MeterName)
                .AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = otlp.SignalEndpoint("metrics");
                    exporter.Protocol = protocol;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlp.MetricExportInterval.TotalMilliseconds;
                })
                .Build();
            _tracer = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(BrokerTracing.SourceName)
                // ASP.NET Core's own request activities (it reads traceparent), so a publish has its request as parent.
                .AddSource("Microsoft.AspNetCore")
                .AddOtlpExporter(exporter =>
                {
                    exporter.Endpoint = otlp.SignalEndpoint("traces");
                    exporter.Protocol = protocol;
                })
                .Build();
            TelemetryLog.OtlpExporting(logger, otlp.Endpoint, otlp.MetricExportInterval);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // Disposing a provider flushes what it holds: the last interval's metrics are not lost at shutdown.
        _meters?.Dispose();
        _tracer?.Dispose();
        _meters = null;
        _tracer = null;
    }
}
