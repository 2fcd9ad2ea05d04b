using Broker.WebSockets;
using Microsoft.Extensions.Logging;

namespace Broker.WebSockets.Internal;

/// <summary>The browser transport's log events (ids 4000-4099). Never a ticket or a cookie.</summary>
internal static partial class WebSocketLog
{
    [LoggerMessage(EventId = 4000, EventName = "UpgradeRefused", Level = LogLevel.Information, Message = "WebSocket upgrade refused: {Reason} ({Count} since the last such message)")]
    public static partial void UpgradeRefused(ILogger logger, string reason, long count);

    [LoggerMessage(EventId = 4001, EventName = "Connected", Level = LogLevel.Debug, Message = "Connection {ConnectionId} of session {SessionId} (user {UserId}) connected")]
    public static partial void Connected(ILogger logger, string connectionId, string? sessionId, string? userId);

    [LoggerMessage(EventId = 4002, EventName = "Closed", Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed with {CloseCode}: {Reason}")]
    public static partial void Closed(ILogger logger, string connectionId, int closeCode, string reason);

    [LoggerMessage(EventId = 4003, EventName = "HelloRefused", Level = LogLevel.Information, Message = "Connection {ConnectionId} from {ClientIp}: hello refused: {Reason} ({Count} hellos refused since the last such message; logged at most once a minute)")]
    public static partial void HelloRefused(ILogger logger, string connectionId, System.Net.IPAddress? clientIp, string reason, long count);

    [LoggerMessage(EventId = 4009, EventName = "LimitReached", Level = LogLevel.Warning, Message = "{Limit} reached ({Max}): {Count} refused since the last such message, the latest from {ClientIp}; logged at most once a minute")]
    public static partial void LimitReached(ILogger logger, string limit, int max, System.Net.IPAddress? clientIp, long count);

    [LoggerMessage(EventId = 4010, EventName = "FailedHellosBlocked", Level = LogLevel.Warning, Message = "{ClientIp} made {Max} refused hellos within a minute: its hellos are refused (rate_limited) until the minute is over ({Count} such addresses since the last such message)")]
    public static partial void FailedHellosBlocked(ILogger logger, System.Net.IPAddress? clientIp, int max, long count);

    [LoggerMessage(EventId = 4004, EventName = "ProtocolViolation", Level = LogLevel.Information, Message = "Connection {ConnectionId} closed with {CloseCode}: {Reason} ({Count} protocol violations since the last such message; logged at most once a minute)")]
    public static partial void ProtocolViolation(ILogger logger, string connectionId, int closeCode, string reason, long count);

    [LoggerMessage(EventId = 4005, EventName = "SlowConsumer", Level = LogLevel.Information, Message = "Connection {ConnectionId} closed as a slow consumer: {Reason}")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 4006, EventName = "BadFrame", Level = LogLevel.Debug, Message = "Connection {ConnectionId}: {Code}: {Reason}")]
    public static partial void BadFrame(ILogger logger, string connectionId, string code, string reason);

    [LoggerMessage(EventId = 4007, EventName = "ConnectionFault", Level = LogLevel.Error, Message = "Connection {ConnectionId} failed")]
    public static partial void ConnectionFault(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 4008, EventName = "RequestFault", Level = LogLevel.Error, Message = "Connection {ConnectionId}: {FrameType} failed")]
    public static partial void RequestFault(ILogger logger, string connectionId, string frameType, Exception exception);
}
