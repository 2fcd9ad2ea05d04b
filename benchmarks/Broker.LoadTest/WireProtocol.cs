using System.Globalization;
using System.Text;

namespace Broker.LoadTest;

/// <summary>
/// What differs between the servers on the wire: frames to send and markers to count in what arrives. Everything
/// else (sockets, receive loops, latency, pacing, in-flight limits) is shared client code.
/// </summary>
internal abstract class WireProtocol
{
    /// <summary>The WebSocket path on the server's web port.</summary>
    public abstract string Path { get; }

    /// <summary>The subprotocol to offer, if any.</summary>
    public virtual string? SubProtocol => null;

    /// <summary>First frame after the upgrade.</summary>
    public abstract byte[] Handshake { get; }

    /// <summary>Appears once in what the server sends when the handshake is done.</summary>
    public abstract byte[] HandshakeMarker { get; }

    /// <summary>Appears once per acknowledged subscribe (and, on a publisher connection, per acknowledged batch).</summary>
    public abstract byte[] AckMarker { get; }

    /// <summary>A server keep-alive to answer with <see cref="PingReply"/>.</summary>
    public abstract byte[] PingMarker { get; }

    public abstract byte[] PingReply { get; }

    /// <summary>A server-side error: counted, reported.</summary>
    public abstract byte[] ErrorMarker { get; }

    /// <summary>Followed by a count of publications the server dropped by policy, or null when it never says.</summary>
    public virtual byte[]? DroppedMarker => null;

    /// <summary>The server's name for a logical channel (<c>room</c>, <c>s17</c>).</summary>
    public abstract string Channel(string logical);

    public abstract byte[] Subscribe(string channel, int id);

    /// <summary>A publish on a WebSocket publisher connection (SignalR and NATS; the broker publishes over gRPC).</summary>
    public abstract byte[] Publish(string channel, ReadOnlySpan<byte> payload, int id);

    public static WireProtocol For(ServerKind kind) => kind switch
    {
        ServerKind.Broker => new BrokerWireProtocol(),
        ServerKind.SignalR => new SignalRWireProtocol(),
        _ => new NatsWireProtocol(),
    };

    protected static byte[] Concat(string head, ReadOnlySpan<byte> payload, string tail)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(head) + payload.Length + Encoding.UTF8.GetByteCount(tail)];
        int n = Encoding.UTF8.GetBytes(head, bytes);
        payload.CopyTo(bytes.AsSpan(n));
        Encoding.UTF8.GetBytes(tail, bytes.AsSpan(n + payload.Length));
        return bytes;
    }

    protected static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

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

/// <summary>
/// The SignalR JSON hub protocol spoken directly over a WebSocket (no negotiate, as a client with
/// <c>SkipNegotiation</c> does): handshake, invocations of <c>Join</c> and <c>Publish</c>, completions as acks.
/// </summary>
internal sealed class SignalRWireProtocol : WireProtocol
{
    public override string Path => "/hub";

    public override byte[] Handshake { get; } = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();

    // The handshake response is an empty object; nothing else the hub sends is one.
    public override byte[] HandshakeMarker { get; } = "{}\u001e"u8.ToArray();

    public override byte[] AckMarker { get; } = "\"type\":3,"u8.ToArray();

    public override byte[] PingMarker { get; } = "{\"type\":6}"u8.ToArray();

    public override byte[] PingReply { get; } = "{\"type\":6}\u001e"u8.ToArray();

    public override byte[] ErrorMarker { get; } = "\"error\":"u8.ToArray();

    public override string Channel(string logical) => logical;

    public override byte[] Subscribe(string channel, int id) =>
        Encoding.UTF8.GetBytes(Format($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Join\",\"arguments\":[\"{channel}\"]}}\u001e"));

    public override byte[] Publish(string channel, ReadOnlySpan<byte> payload, int id) =>
        Concat(Format($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Publish\",\"arguments\":[\"{channel}\","), payload, "]}\u001e");
}

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
