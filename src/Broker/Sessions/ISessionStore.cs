namespace Broker.Sessions;

/// <summary>
/// Where sessions live. The default, <see cref="InMemorySessionStore"/>, keeps them in the broker process;
/// a cluster can register its own implementation (before <c>AddBrokerSessions</c>, which only adds the
/// default when none is registered) so that every node sees the same sessions.
/// </summary>
/// <remarks>
/// Contract every implementation keeps: all members are safe to call concurrently; a session is findable by
/// its id, and by its cookie key when it was created with one; <see cref="BindUserAsync"/> is atomic per
/// session (a concurrent reader sees the old or the new record, never a mix). Cookie keys are secrets: an
/// implementation must not log them. Members are asynchronous because a shared store is remote.
/// Sessions expire (<see cref="SessionStoreOptions"/>): one unused for <c>IdleTimeout</c>, or older than
/// <c>Lifetime</c>, is gone; finding a session and <see cref="TouchAsync"/> count as using it. A store bounds what
/// it holds, so that no loop of requests exhausts memory. A store whose backend cannot answer (a remote store's
/// outage) throws <see cref="SessionStoreUnavailableException"/> from any member, never its backend's own exceptions.
/// </remarks>
public interface ISessionStore
{
    /// <summary>
    /// How many sessions this broker counts, for <c>/stats</c> and the <c>broker.sessions</c> gauge; read
    /// often, so it must be cheap (no round trip). <see langword="null"/> when the store cannot count cheaply or
    /// has no per-node number: <c>/stats</c> is per node (PROTOCOL.md, cluster), and a shared store's sessions
    /// are the cluster's.
    /// </summary>
    long? Count { get; }

    /// <summary>Stores a new session.</summary>
    /// <param name="session">The session; its <see cref="BrokerSession.SessionId"/> must be new.</param>
    /// <param name="cookieKey">The secret key carried (protected) by the browser's cookie, or <see langword="null"/> for a session no cookie points at (one made over gRPC, or an anonymous socket's).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException">The session id or the cookie key is already in use.</exception>
    /// <exception cref="SessionLimitExceededException">The store holds as many sessions as it may.</exception>
    ValueTask CreateAsync(BrokerSession session, string? cookieKey, CancellationToken cancellationToken = default);

    /// <summary>Finds a session by its public id, and marks it used.</summary>
    /// <returns>The session, or <see langword="null"/> when the store does not know it.</returns>
    ValueTask<BrokerSession?> FindByIdAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Finds the session a cookie key points at, and marks it used.</summary>
    /// <returns>The session, or <see langword="null"/> when the store does not know the key.</returns>
    ValueTask<BrokerSession?> FindByCookieKeyAsync(string cookieKey, CancellationToken cancellationToken = default);

    /// <summary>Binds a user id to a session from now on, replacing any user bound before.</summary>
    /// <returns>The updated session, or <see langword="null"/> when the store does not know the session.</returns>
    ValueTask<BrokerSession?> BindUserAsync(string sessionId, string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks a session used now, so its idle timeout starts again (never past its lifetime). The broker calls
    /// it for each session with an open socket, so that a connected session does not go idle.
    /// </summary>
    /// <returns><see langword="false"/> when the session is gone (expired, or never known): its sockets must end.</returns>
    ValueTask<bool> TouchAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Removes the sessions that have expired, for a store whose entries do not expire by themselves.</summary>
    /// <returns>How many were removed (0 for a store that expires its entries itself).</returns>
    ValueTask<int> PurgeExpiredAsync(CancellationToken cancellationToken = default);
}
