using System.Diagnostics.Metrics;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Sessions;

namespace Broker.Stats;

/// <summary>
/// The broker's observable instruments: read from the hub and the registries when a listener collects,
/// so the hot path pays nothing for them. Publications and deliveries are observable counters over the
/// hub's own totals (one <c>Interlocked</c> per publication, which the hub keeps anyway).
/// </summary>
public sealed class BrokerGauges
{
    private static readonly KeyValuePair<string, object?> WebSocketTransport = new("transport", "websocket");
    private static readonly KeyValuePair<string, object?> GrpcTransport = new("transport", "grpc");

    private readonly Hub _hub;
    private readonly ConnectionRegistry _connections;
    private readonly BrokerMetrics _metrics;
    private readonly ISessionStore _sessions;

    /// <summary>Creates the observable instruments on <paramref name="metrics"/>' meter.</summary>
    public BrokerGauges(BrokerMetrics metrics, Hub hub, ConnectionRegistry connections, ISessionStore sessions)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _metrics = metrics;
        _hub = hub;
        _connections = connections;
        _sessions = sessions;
        var meter = metrics.Meter;
        meter.CreateObservableUpDownCounter("broker.connections", ObserveConnections, "{connection}", "Open connections by transport: WebSockets that said hello; gRPC streams (Subscribe, Handle, PublishStream).");
        meter.CreateObservableUpDownCounter("broker.channels", () => (long)_hub.ChannelCount, "{channel}", "Channels with at least one local subscription.");
        meter.CreateObservableUpDownCounter("broker.subscriptions", () => _hub.SubscriptionCount, "{subscription}", "Local exact-channel subscriptions.");
        if (_sessions.Count is not null)
        {
            meter.CreateObservableUpDownCounter("broker.sessions", () => _sessions.Count ?? 0, "{session}", "Sessions this broker knows.");
        }

        meter.CreateObservableCounter("broker.publications", () => _hub.PublicationCount, "{publication}", "Publications fanned out by this broker.");
        meter.CreateObservableCounter("broker.deliveries", () => _hub.DeliveryCount, "{message}", "Messages queued to subscribers (one per subscriber per publication).");
        meter.CreateObservableGauge("broker.connection.pending_bytes.max", () => _connections.MaxPendingBytes(), "By", "The most bytes queued for any one WebSocket connection.");
    }

    private IEnumerable<Measurement<long>> ObserveConnections() =>
    [
        new(_connections.Count, WebSocketTransport),
        new(_metrics.GrpcStreams, GrpcTransport),
    ];
}
