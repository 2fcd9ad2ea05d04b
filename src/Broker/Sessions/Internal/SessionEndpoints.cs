using Broker.Core;
using Broker.Sessions;
using Microsoft.Extensions.Options;

namespace Broker.Sessions.Internal;

/// <summary>The HTTP endpoints <c>POST /session</c> and <c>POST /tickets</c> (PROTOCOL.md, "HTTP endpoints").</summary>
internal static class SessionEndpoints
{
    public static async Task<IResult> PostSession(
        HttpContext context, OriginPolicy origins, SessionResolver sessions)
    {
        if (origins.Evaluate(context.Request) != OriginDecision.Allowed)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        BrokerSession session;
        try
        {
            session = await sessions.GetOrCreateAsync(context, context.RequestAborted);
        }
        catch (SessionLimitExceededException)
        {
            // Capacity, not the caller's fault: 503 with a hint to come back once idle sessions have been swept
            // (the sweep runs at least once a minute).
            context.Response.Headers.RetryAfter = "60";
            return Results.Json(new LimitReply(ErrorCodes.LimitExceeded, "The broker holds as many sessions as it may; try again later."),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        // The reply names the session and may carry its cookie: no cache may keep it.
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new SessionReply(session.SessionId, session.UserId));
    }

    public static async Task<IResult> PostTickets(
        HttpContext context,
        OriginPolicy origins,
        SessionResolver sessions,
        TicketService tickets,
        IOptions<BrokerSessionOptions> options,
        ILoggerFactory loggerFactory)
    {
        if (origins.Evaluate(context.Request) != OriginDecision.Allowed)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        var session = await sessions.ResolveAsync(context, context.RequestAborted);
        if (session is null)
        {
            var logger = loggerFactory.CreateLogger(typeof(SessionEndpoints).FullName!);
            if (logger.IsEnabled(LogLevel.Information))
            {
                SessionsLog.RequestRefused(logger, context.Request.Method, context.Request.Path.Value ?? "/tickets",
                    StatusCodes.Status401Unauthorized, "no valid session cookie");
            }

            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        var clientIp = options.Value.Tickets.BindToIp ? context.Connection.RemoteIpAddress : null;
        var result = await tickets.IssueForSessionAsync(session, clientIp, context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        if (result.Status == TicketIssueStatus.TicketLimitReached)
        {
            // Capacity, as for a full session store: come back once tickets have been used or have expired.
            context.Response.Headers.RetryAfter = "5";
            return Results.Json(new LimitReply(ErrorCodes.LimitExceeded, "The broker holds as many unused tickets as it may; try again shortly."),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Json(new TicketReply(result.Ticket!, WireTime.ToText(result.ExpiresAt)));
    }

    /// <summary>The body of <c>POST /session</c>: <c>{"sessionId":"…","userId":null}</c>.</summary>
    internal sealed record SessionReply(string SessionId, string? UserId);

    /// <summary>The body of a refusal for capacity: <c>{"code":"limit_exceeded","message":"…"}</c>, the WebSocket error's words.</summary>
    internal sealed record LimitReply(string Code, string Message);

    /// <summary>The body of <c>POST /tickets</c>: <c>{"ticket":"…","expiresAt":"…"}</c>.</summary>
    internal sealed record TicketReply(string Ticket, string ExpiresAt)
    {
        // The generated ToString would print the ticket.
        public override string ToString() => $"TicketReply {{ ExpiresAt = {ExpiresAt} }}";
    }
}
