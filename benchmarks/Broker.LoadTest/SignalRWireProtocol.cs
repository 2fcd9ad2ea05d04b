using System.Text;

namespace Broker.LoadTest;

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

    public override byte[]? ClientKeepAlive => PingReply;

    public override byte[] ErrorMarker { get; } = "\"error\":"u8.ToArray();

    // A completion writes its invocation id before its error.
    public override byte[]? ReplyIdMarker { get; } = "\"invocationId\":\""u8.ToArray();

    public override string Channel(string logical) => logical;

    public override byte[] Subscribe(string channel, int id) =>
        Encoding.UTF8.GetBytes(Format($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Join\",\"arguments\":[\"{channel}\"]}}\u001e"));

    public override byte[] Publish(string channel, ReadOnlySpan<byte> payload, int id) =>
        Concat(Format($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Publish\",\"arguments\":[\"{channel}\","), payload, "]}\u001e");
}
