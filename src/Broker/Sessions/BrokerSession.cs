namespace Broker.Sessions;

/// <summary>
/// A browser's server-side session (PROTOCOL.md, "Terms"): the public id that names its personal channel
/// <c>$session:&lt;SessionId&gt;</c>, the user bound to it, when it was made and the claims given with it.
/// </summary>
/// <remarks>
/// Immutable: binding a user makes a new record (<c>with { UserId = … }</c>) that the store swaps in, so a
/// reader never sees a half-updated session. The cookie key that finds a session is deliberately not part of
/// this record: the record is handed to transports and may end up in logs or replies, the key must not.
/// </remarks>
/// <param name="SessionId">The public id: random, URL-safe (<c>[A-Za-z0-9_-]</c>), at least 128 bits; never the cookie value.</param>
/// <param name="UserId">The bound user, or <see langword="null"/> for a session without a user.</param>
/// <param name="CreatedAt">When the session was made (UTC, from the broker's <see cref="TimeProvider"/>).</param>
/// <param name="Claims">Claims a backend attached when it made the session over gRPC; empty otherwise.</param>
public sealed record BrokerSession(
    string SessionId,
    string? UserId,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, string> Claims)
{
    /// <summary>An empty claim set, shared so sessions without claims allocate nothing.</summary>
    public static readonly IReadOnlyDictionary<string, string> NoClaims = new Dictionary<string, string>(0);

    /// <summary>Whether a user is bound: the namespace rule <c>authenticated</c> means exactly this.</summary>
    public bool IsAuthenticated => UserId is not null;
}
