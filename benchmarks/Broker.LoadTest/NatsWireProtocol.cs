using System.Text;

namespace Broker.LoadTest;

/// <summary>
/// The NATS text protocol over nats-server's WebSocket listener. NATS acknowledges nothing but <c>PING</c>, so a
/// <c>SUB</c> and each batch of <c>PUB</c>s is followed by <c>PING</c>, and its <c>PONG</c> is the ack: the server has
/// processed everything before it.
/// </summary>
internal sealed class NatsWireProtocol : WireProtocol
{
    public override string Path => "/";

    public override byte[] Handshake { get; } =
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"name\":\"loadtest\",\"lang\":\"dotnet\",\"version\":\"1.0\"}\r\nPING\r\n"u8.ToArray();

    public override byte[] HandshakeMarker { get; } = "PONG\r\n"u8.ToArray();

    public override byte[] AckMarker { get; } = "PONG\r\n"u8.ToArray();

    public override byte[] PingMarker { get; } = "PING\r\n"u8.ToArray();

    public override byte[] PingReply { get; } = "PONG\r\n"u8.ToArray();

    public override byte[] ErrorMarker { get; } = "-ERR"u8.ToArray();

    public override string Channel(string logical) => "bench." + logical;

    public override byte[] Subscribe(string channel, int id) => Encoding.UTF8.GetBytes(Format($"SUB {channel} {id}\r\nPING\r\n"));

    public override byte[] Publish(string channel, ReadOnlySpan<byte> payload, int id) =>
        Concat(Format($"PUB {channel} {payload.Length}\r\n"), payload, "\r\n");
}
