using System.Net;
using Broker.Sessions;
using Microsoft.Extensions.Primitives;

namespace Broker.Sessions.Internal;

/// <summary>
/// Log messages of sessions, tickets and the origin rule (event ids 3000-3099). No message takes a ticket,
/// a cookie value or a cookie key as an argument: those are bearer secrets and logs are widely readable.
/// </summary>
internal static partial class SessionsLog
{
    [LoggerMessage(EventId = 3000, EventName = "SessionCreated", Level = LogLevel.Debug,
        Message = "Session {SessionId} created (cookie: {WithCookie}, user: {UserId}).")]
    public static partial void SessionCreated(ILogger logger, string sessionId, bool withCookie, string? userId);

    [LoggerMessage(EventId = 3001, EventName = "UserBound", Level = LogLevel.Debug,
        Message = "User {UserId} bound to session {SessionId}.")]
    public static partial void UserBound(ILogger logger, string sessionId, string userId);

    [LoggerMessage(EventId = 3002, EventName = "RequestRefused", Level = LogLevel.Information,
        Message = "{Method} {Path} refused with {StatusCode}: {Reason}.")]
    public static partial void RequestRefused(ILogger logger, string method, string path, int statusCode, string reason);

    [LoggerMessage(EventId = 3003, EventName = "OriginRefused", Level = LogLevel.Information,
        Message = "{Method} {Path} refused: {Decision} (Origin '{Origin}', Sec-Fetch-Site '{FetchSite}').")]
    public static partial void OriginRefused(ILogger logger, string method, string path, OriginDecision decision, StringValues origin, StringValues fetchSite);

    [LoggerMessage(EventId = 3004, EventName = "SessionCookieRejected", Level = LogLevel.Information,
        Message = "Session cookie rejected: {Reason}.")]
    public static partial void SessionCookieRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = 3010, EventName = "TicketIssued", Level = LogLevel.Debug,
        Message = "Ticket issued for session {SessionId}, user {UserId}, expires {ExpiresAt:O}, bound to {ClientIp}.")]
    public static partial void TicketIssued(ILogger logger, string sessionId, string? userId, DateTimeOffset expiresAt, IPAddress? clientIp);

    [LoggerMessage(EventId = 3011, EventName = "TicketConsumed", Level = LogLevel.Debug,
        Message = "Ticket of session {SessionId} consumed.")]
    public static partial void TicketConsumed(ILogger logger, string sessionId);

    [LoggerMessage(EventId = 3012, EventName = "TicketRejected", Level = LogLevel.Information,
        Message = "Ticket rejected from {ClientIp}: {Reason} ({Count} so rejected since the last such message; logged at most once a minute per reason).")]
    public static partial void TicketRejected(ILogger logger, IPAddress? clientIp, TicketRejection reason, long count);

    [LoggerMessage(EventId = 3013, EventName = "TicketsPurged", Level = LogLevel.Debug,
        Message = "{Count} expired tickets purged; {Remaining} outstanding.")]
    public static partial void TicketsPurged(ILogger logger, int count, int remaining);

    [LoggerMessage(EventId = 3014, EventName = "TicketRefused", Level = LogLevel.Information,
        Message = "Ticket not issued for session '{SessionId}': {Status}.")]
    public static partial void TicketRefused(ILogger logger, string? sessionId, TicketIssueStatus status);

    [LoggerMessage(EventId = 3020, EventName = "SessionsExpired", Level = LogLevel.Debug,
        Message = "{Count} expired sessions removed.")]
    public static partial void SessionsExpired(ILogger logger, int count);

    [LoggerMessage(EventId = 3021, EventName = "SessionEnded", Level = LogLevel.Debug,
        Message = "Session {SessionId} ended; {Connections} connections closed with 4003.")]
    public static partial void SessionEnded(ILogger logger, string sessionId, int connections);

    [LoggerMessage(EventId = 3022, EventName = "SessionSweepFailed", Level = LogLevel.Warning,
        Message = "The session sweep failed; it runs again in {Interval}.")]
    public static partial void SessionSweepFailed(ILogger logger, TimeSpan interval, Exception exception);

    [LoggerMessage(EventId = 3023, EventName = "SessionLimitReached", Level = LogLevel.Warning,
        Message = "New sessions refused: the store holds Broker:Sessions:MaxCount ({MaxCount}) sessions; {Refused} refused since the last such message.")]
    public static partial void SessionLimitReached(ILogger logger, int maxCount, long refused);

    [LoggerMessage(EventId = 3024, EventName = "TicketLimitReached", Level = LogLevel.Warning,
        Message = "Tickets refused: the store holds Broker:Tickets:MaxOutstanding ({MaxOutstanding}) unused tickets; {Refused} refused since the last such message.")]
    public static partial void TicketLimitReached(ILogger logger, int maxOutstanding, long refused);

    [LoggerMessage(EventId = 3025, EventName = "StoreUnreachable", Level = LogLevel.Warning,
        Message = "The session store cannot answer: {Reason}. Requests that need it answer unavailable; {Count} such failures since the last such message (logged at most once a minute).")]
    public static partial void StoreUnreachable(ILogger logger, string reason, long count);

    [LoggerMessage(EventId = 3026, EventName = "SessionSweepDeferred", Level = LogLevel.Debug,
        Message = "The session sweep could not reach the session store; no session was ended, it runs again in {Interval}.")]
    public static partial void SessionSweepDeferred(ILogger logger, TimeSpan interval);
}
