namespace Broker.Sessions;

/// <summary>
/// What a consumed ticket grants: the socket that presented it is bound to this session and user, with these
/// claims. A snapshot taken when the ticket was issued.
/// </summary>
/// <param name="SessionId">The session the socket joins; names its personal channel <c>$session:&lt;SessionId&gt;</c>.</param>
/// <param name="UserId">The user, or <see langword="null"/> for a session without one.</param>
/// <param name="Claims">The claims given to <c>IssueTicket</c>, or the session's own when none were given.</param>
/// <param name="ExpiresAt">When the ticket would have expired (UTC).</param>
public sealed record TicketGrant(
    string SessionId,
    string? UserId,
    IReadOnlyDictionary<string, string> Claims,
    DateTimeOffset ExpiresAt);
