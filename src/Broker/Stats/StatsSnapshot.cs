using System.Buffers;
using System.Text.Json;

namespace Broker.Stats;

/// <summary>What <c>/stats</c> answers and the dashboard draws: counts now, rates over the last seconds.</summary>
public sealed record StatsSnapshot(
    string Node,
    string EngineNode,
    DateTimeOffset Time,
    double UptimeSeconds,
    bool Draining,
    bool EngineHealthy,
    int WebSocketConnections,
    long GrpcStreams,
    int Sessions,
    int Channels,
    long Subscriptions,
    long Publications,
    double PublicationsPerSecond,
    long Deliveries,
    double DeliveriesPerSecond,
    long Drops,
    double DropsPerSecond,
    long DropsOverflow,
    long DropsSlowConsumer,
    long DropsClosed,
    long DropsShutdown,
    long MaxPendingBytes,
    double FanOutP99Ms)
{
    /// <summary>The snapshot as <c>/stats</c> serves it (PROTOCOL.md, "HTTP endpoints"), UTF-8 JSON.</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("node", Node);
            json.WriteString("engineNode", EngineNode);

            json.WriteString("time", Time);
            json.WriteNumber("uptimeSeconds", Math.Round(UptimeSeconds, 1));
            json.WriteBoolean("ready", !Draining && EngineHealthy);
            json.WriteBoolean("draining", Draining);
            json.WriteBoolean("engineHealthy", EngineHealthy);
            json.WriteStartObject("connections");
            json.WriteNumber("total", WebSocketConnections + GrpcStreams);
            json.WriteNumber("websocket", WebSocketConnections);
            json.WriteNumber("grpc", GrpcStreams);
            json.WriteEndObject();
            if (Sessions >= 0)
            {
                json.WriteNumber("sessions", Sessions);
            }

            json.WriteNumber("channels", Channels);
            json.WriteNumber("subscriptions", Subscriptions);
            json.WriteNumber("publications", Publications);
            json.WriteNumber("publicationsPerSecond", Math.Round(PublicationsPerSecond, 1));
            json.WriteNumber("deliveries", Deliveries);
            json.WriteNumber("deliveriesPerSecond", Math.Round(DeliveriesPerSecond, 1));
            json.WriteStartObject("drops");
            json.WriteNumber("total", Drops);
            json.WriteNumber("perSecond", Math.Round(DropsPerSecond, 1));
            json.WriteNumber("overflow", DropsOverflow);
            json.WriteNumber("slowConsumer", DropsSlowConsumer);
            json.WriteNumber("closed", DropsClosed);
            json.WriteNumber("shutdown", DropsShutdown);
            json.WriteEndObject();
            json.WriteNumber("maxPendingBytes", MaxPendingBytes);
            json.WriteNumber("fanOutP99Ms", FanOutP99Ms);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
