namespace Broker.WebSockets;

/// <summary>The close codes of PROTOCOL.md beyond RFC 6455's own.</summary>
public static class WebSocketCloseCodes
{
    /// <summary>1000: normal closure.</summary>
    public const int Normal = 1000;

    /// <summary>1001: the broker is shutting down; reconnect elsewhere.</summary>
    public const int GoingAway = 1001;

    /// <summary>1003: a binary message.</summary>
    public const int BinaryData = 1003;

    /// <summary>1002: a framing error; sent by the WebSocket layer itself (RFC 6455), not by the broker's code.</summary>
    public const int ProtocolError = 1002;

    /// <summary>1007: a text message that is not UTF-8; sent by the WebSocket layer itself (RFC 6455).</summary>
    public const int InvalidPayload = 1007;

    /// <summary>1008: policy (hello missing, auth, abuse).</summary>
    public const int Policy = 1008;

    /// <summary>1009: a message over <c>Broker:WebSocket:MaxMessageBytes</c>.</summary>
    public const int TooBig = 1009;

    /// <summary>1011: the broker's own fault.</summary>
    public const int InternalError = 1011;

    /// <summary>4001: slow consumer.</summary>
    public const int SlowConsumer = 4001;

    /// <summary>4002: disconnected by a backend.</summary>
    public const int DisconnectedByBackend = 4002;

    /// <summary>4003: the session ended.</summary>
    public const int SessionEnded = 4003;
}
