using System.Text;

namespace Broker.LoadTest;

/// <summary>The broker's JSON frames (PROTOCOL.md): anonymous <c>hello</c>, <c>subscribe</c>, <c>pub</c> frames.</summary>
internal sealed class BrokerWireProtocol : WireProtocol
{
    public override string Path => "/ws";

    public override string? SubProtocol => "broker.v1.json";

    public override byte[] Handshake { get; } = "{\"type\":\"hello\",\"id\":1,\"client\":\"loadtest\"}"u8.ToArray();

    public override byte[] HandshakeMarker { get; } = "\"type\":\"welcome\""u8.ToArray();

    public override byte[] AckMarker { get; } = "\"type\":\"subscribed\""u8.ToArray();

    public override byte[] PingMarker { get; } = "{\"type\":\"ping\"}"u8.ToArray();

    public override byte[] PingReply { get; } = "{\"type\":\"pong\"}"u8.ToArray();

    public override byte[] ErrorMarker { get; } = "\"type\":\"error\""u8.ToArray();

    public override byte[]? DroppedMarker { get; } = "\"dropped\":"u8.ToArray();

    public override string Channel(string logical) => "bench:" + logical;

    public override byte[] Subscribe(string channel, int id) =>
        Encoding.UTF8.GetBytes(Format($"{{\"type\":\"subscribe\",\"id\":{id},\"channel\":\"{channel}\"}}"));

    public override byte[] Publish(string channel, ReadOnlySpan<byte> payload, int id) =>
        Concat(Format($"{{\"type\":\"publish\",\"id\":{id},\"channel\":\"{channel}\",\"data\":"), payload, "}");
}
