namespace Broker.Sessions.Internal;

/// <summary>
/// One session in the <see cref="InMemorySessionStore"/>: the record (swapped whole when a user is bound), the
/// cookie key that points at it (so removing it removes the mapping too), and when it was last used.
/// </summary>
internal sealed class SessionEntry(BrokerSession session, string? cookieKey, long lastUsedUtcTicks)
{
    private BrokerSession _session = session;
    private long _lastUsedUtcTicks = lastUsedUtcTicks;

    public BrokerSession Session => Volatile.Read(ref _session);

    public string? CookieKey { get; } = cookieKey;

    /// <summary>Swaps the record if it is still <paramref name="expected"/>: binds racing on one session both land, in some order.</summary>
    public bool TrySwap(BrokerSession expected, BrokerSession replacement) =>
        ReferenceEquals(Interlocked.CompareExchange(ref _session, replacement, expected), expected);

    /// <summary>Marks the session used at <paramref name="nowUtcTicks"/>; a plain store is enough, the latest use wins either way.</summary>
    public void Touch(long nowUtcTicks) => Volatile.Write(ref _lastUsedUtcTicks, nowUtcTicks);

    /// <summary>When the session ends if nobody uses it: the idle timeout from its last use, never past its lifetime.</summary>
    public long ExpiresAtUtcTicks(long idleTicks, long lifetimeTicks) =>
        Math.Min(Volatile.Read(ref _lastUsedUtcTicks) + idleTicks, Session.CreatedAt.UtcTicks + lifetimeTicks);
}
