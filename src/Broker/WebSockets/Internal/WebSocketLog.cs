using Broker.WebSockets;
using Microsoft.Extensions.Logging;

namespace Broker.WebSockets.Internal;

/// <summary>The browser transport's log events (ids 4000-4099). Never a ticket or a cookie.</summary>
internal static partial class WebSocketLog
{
    [LoggerMessage(EventId = 4000, EventName = "UpgradeRefused", Level = LogLevel.Information, Message = "WebSocket upgrade refused: {Reason}")]
    public static partial void UpgradeRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 4001, EventName = "Connected", Level = LogLevel.Debug, Message = "Connection {ConnectionId} of session {SessionId} (user {UserId}) connected")]
    public static partial void Connected(ILogger logger, string connectionId, string? sessionId, string? userId);

    [LoggerMessage(EventId = 4002, EventName = "Closed", Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed with {CloseCode}: {Reason}")]
    public static partial void Closed(ILogger logger, string connectionId, int closeCode, string reason);

    [LoggerMessage(EventId = 4003, EventName = "HelloRefused", Level = LogLevel.Information, Message = "Connection {ConnectionId}: hello refused: {Reason}")]
    public static partial void HelloRefused(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 4004, EventName = "ProtocolViolation", Level = LogLevel.Information, Message = "Connection {ConnectionId} closed with {CloseCode}: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string connectionId, int closeCode, string reason);

    [LoggerMessage(EventId = 4005, EventName = "SlowConsumer", Level = LogLevel.Information, Message = "Connection {ConnectionId} closed as a slow consumer: {Reason}")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, string reason);

    [LoggerMessage(EventId = 4006, EventName = "BadFrame", Level = LogLevel.Debug, Message = "Connection {ConnectionId}: {Code}: {Reason}")]
    public static partial void BadFrame(ILogger logger, string connectionId, string code, string reason);

    [LoggerMessage(EventId = 4007, EventName = "ConnectionFault", Level = LogLevel.Error, Message = "Connection {ConnectionId} failed")]
    public static partial void ConnectionFault(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 4008, EventName = "RequestFault", Level = LogLevel.Error, Message = "Connection {ConnectionId}: {FrameType} failed")]
    public static partial void RequestFault(ILogger logger, string connectionId, string frameType, Exception exception);
}
