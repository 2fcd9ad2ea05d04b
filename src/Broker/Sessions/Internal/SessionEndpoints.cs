using Broker.Core;
using Broker.Diagnostics;
using Broker.Sessions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Broker.Sessions.Internal;

/// <summary>The HTTP endpoints <c>POST /session</c> and <c>POST /tickets</c> (PROTOCOL.md, "HTTP endpoints").</summary>
internal static class SessionEndpoints
{
    /// <summary>
    /// <c>Retry-After</c> of a request refused because the session store is unreachable, in seconds: the engine's probe
    /// sees Redis back within about a second and the connection retries every half second, so a few seconds is enough,
    /// and long enough to spread a page's retries.
    /// </summary>
    private const string UnavailableRetryAfterSeconds = "5";

    public static async Task<IResult> PostSession(
        HttpContext context, OriginPolicy origins, SessionResolver sessions, [FromServices] BrokerMetrics? metrics)
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
            return Refused(context, ErrorCodes.LimitExceeded, "The broker holds as many sessions as it may; try again later.", retryAfterSeconds: "60");
        }
        catch (SessionStoreUnavailableException)
        {
            return Unavailable(context, metrics, "session");
        }

        // The reply names the session and may carry its cookie: no cache may keep it.
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new SessionReply(session.SessionId, session.UserId), SessionsJsonContext.Wire.SessionReply);
    }

    public static async Task<IResult> PostTickets(
        HttpContext context,
        OriginPolicy origins,
        SessionResolver sessions,
        TicketService tickets,
        IOptions<BrokerSessionOptions> options,
        ILoggerFactory loggerFactory,
        [FromServices] BrokerMetrics? metrics)
    {
        if (origins.Evaluate(context.Request) != OriginDecision.Allowed)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        BrokerSession? session;
        try
        {
            session = await sessions.ResolveAsync(context, context.RequestAborted);
        }
        catch (SessionStoreUnavailableException)
        {
            return Unavailable(context, metrics, "tickets");
        }

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
            return Refused(context, ErrorCodes.LimitExceeded, "The broker holds as many unused tickets as it may; try again shortly.", retryAfterSeconds: "5");
        }

        if (result.Status == TicketIssueStatus.Unavailable)
        {
            // Counted by the ticket service.
            return Unavailable(context, metrics: null, "tickets");
        }

        return Results.Json(new TicketReply(result.Ticket!, WireTime.ToText(result.ExpiresAt)), SessionsJsonContext.Wire.TicketReply);
    }

    /// <summary>
    /// The session store is unreachable: 503 with the refusal body every HTTP error of the broker uses
    /// (<c>{"code":"unavailable",…}</c>, the WebSocket error's words) and <c>Retry-After</c>, as ASP.NET Core's own
    /// rate limiter and the broker's other 503s answer; counted in <c>broker.engine.unavailable</c> by
    /// <paramref name="operation"/> unless <paramref name="metrics"/> is null (counted already). The store logged the cause.
    /// </summary>
    private static IResult Unavailable(HttpContext context, BrokerMetrics? metrics, string operation)
    {
        metrics?.RecordEngineUnavailable(operation);
        context.Response.Headers.CacheControl = "no-store";
        return Refused(context, ErrorCodes.Unavailable, "The session store is unreachable; try again shortly.", UnavailableRetryAfterSeconds);
    }

    /// <summary>A 503 refusal: <c>Retry-After</c> and the body <c>{"code":"…","message":"…"}</c>.</summary>
    private static IResult Refused(HttpContext context, string code, string message, string retryAfterSeconds)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds;
        return Results.Json(new ErrorReply(code, message), SessionsJsonContext.Wire.ErrorReply, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The body of <c>POST /session</c>: <c>{"sessionId":"…","userId":null}</c>.</summary>
    internal sealed record SessionReply(string SessionId, string? UserId);

    /// <summary>The body of a refusal (capacity, an unreachable store): <c>{"code":"limit_exceeded","message":"…"}</c>, the WebSocket error's words.</summary>
    internal sealed record ErrorReply(string Code, string Message);

    /// <summary>The body of <c>POST /tickets</c>: <c>{"ticket":"…","expiresAt":"…"}</c>.</summary>
    internal sealed record TicketReply(string Ticket, string ExpiresAt)
    {
        // The generated ToString would print the ticket.
        public override string ToString() => $"TicketReply {{ ExpiresAt = {ExpiresAt} }}";
    }
}
