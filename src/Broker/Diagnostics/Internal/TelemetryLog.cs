namespace Broker.Diagnostics.Internal;

/// <summary>The telemetry's log messages (event ids 9100–9199).</summary>
internal static partial class TelemetryLog
{
    [LoggerMessage(EventId = 9100, EventName = "OtlpExporting", Level = LogLevel.Information, Message = "Exporting metrics and traces over OTLP ({Protocol}) to {Endpoint}.")]
    public static partial void OtlpExporting(ILogger logger, string endpoint, string protocol);
}
