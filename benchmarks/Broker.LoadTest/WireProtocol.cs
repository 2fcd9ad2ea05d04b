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

    /// <summary>
    /// A keep-alive the client must send on its own, unasked, or null when the server asks (the broker's and NATS's
    /// pings are answered with <see cref="PingReply"/>). SignalR's server pings only a connection it has sent nothing
    /// to, and closes one it has heard nothing from for 30 s (<c>ClientTimeoutInterval</c>): a subscriber that only
    /// receives must ping, as SignalR's own client does every 15 s.
    /// </summary>
    public virtual byte[]? ClientKeepAlive => null;

    /// <summary>A server-side error: counted, reported.</summary>
    public abstract byte[] ErrorMarker { get; }

    /// <summary>
    /// Where a reply names the request it answers, the text before that request's id (SignalR's
    /// <c>"invocationId":"</c>): an error reply's id says which publication failed. Null when replies carry none.
    /// </summary>
    public virtual byte[]? ReplyIdMarker => null;

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
