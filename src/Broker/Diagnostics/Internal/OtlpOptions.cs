using Broker.Diagnostics;
namespace Broker.Diagnostics.Internal;

/// <summary>
/// The OTLP export switch, read from the standard OpenTelemetry environment variables (also settable as
/// configuration keys of the same names): export is on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
internal sealed record OtlpOptions(Uri Endpoint, bool Grpc, TimeSpan MetricExportInterval, string ServiceName)
{
    /// <summary>The OpenTelemetry SDK's default export interval (<c>OTEL_METRIC_EXPORT_INTERVAL</c> unset).</summary>
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(60);

    /// <summary>The options, or null when no endpoint is configured (export off).</summary>
    public static OtlpOptions? From(IConfiguration configuration)
    {
        string? endpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint) || !Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri))
        {
            return null;
        }

        // The specification's default protocol is http/protobuf; "grpc" opts into OTLP/gRPC.
        bool grpc = string.Equals(configuration["OTEL_EXPORTER_OTLP_PROTOCOL"], "grpc", StringComparison.OrdinalIgnoreCase);
        var interval = int.TryParse(configuration["OTEL_METRIC_EXPORT_INTERVAL"], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : DefaultInterval;
        string service = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "broker";
        return new OtlpOptions(uri, grpc, interval, service);
    }

    /// <summary>The URL of one signal: OTLP/HTTP puts each signal under <c>/v1/{signal}</c> of the base endpoint.</summary>
    public Uri SignalEndpoint(string signal) =>
        Grpc ? Endpoint : new Uri(Endpoint.AbsoluteUri.TrimEnd('/') + "/v1/" + signal);
}
