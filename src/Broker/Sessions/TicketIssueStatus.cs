namespace Broker.Sessions;

/// <summary>The outcome of <see cref="TicketService.IssueAsync"/>; the gRPC layer maps each to a status code.</summary>
public enum TicketIssueStatus
{
    /// <summary>A ticket was issued (gRPC <c>OK</c>).</summary>
    Issued,

    /// <summary>The session id names no session the broker knows (gRPC <c>NOT_FOUND</c>).</summary>
    SessionNotFound,

    /// <summary>The user id is not 1-128 characters of <c>[A-Za-z0-9_.\-:@#/=]</c> (gRPC <c>INVALID_ARGUMENT</c>).</summary>
    InvalidUserId,

    /// <summary>The requested time to live is not positive (gRPC <c>INVALID_ARGUMENT</c>).</summary>
    InvalidTtl,

    /// <summary>A new session was needed and the session store is full (<c>Broker:Sessions:MaxCount</c>; gRPC <c>RESOURCE_EXHAUSTED</c>).</summary>
    SessionLimitReached,

    /// <summary>The in-memory ticket store holds <c>Broker:Tickets:MaxOutstanding</c> tickets (gRPC <c>RESOURCE_EXHAUSTED</c>).</summary>
    TicketLimitReached,

    /// <summary>
    /// The session or ticket store could not be reached (<see cref="SessionStoreUnavailableException"/>; gRPC
    /// <c>UNAVAILABLE</c>, HTTP 503 <c>unavailable</c>): nothing was issued, try again shortly.
    /// </summary>
    Unavailable,
}
