namespace Broker.Diagnostics.Internal;

/// <summary>Says at start where the OTLP export goes (registered only when it is on).</summary>
internal sealed class OtlpExportAnnouncer(IConfiguration configuration, ILogger<OtlpExportAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        TelemetryLog.OtlpExporting(logger, configuration[TelemetryServiceCollectionExtensions.EndpointKey]!, configuration[TelemetryServiceCollectionExtensions.ProtocolKey] ?? "http/protobuf");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
