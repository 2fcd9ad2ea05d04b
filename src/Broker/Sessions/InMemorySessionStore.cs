using System.Collections.Concurrent;
using Broker.Sessions.Internal;

namespace Broker.Sessions;

/// <summary>
/// The default <see cref="ISessionStore"/>: sessions in two concurrent dictionaries, by id and by cookie key.
/// Sessions live until they expire (<see cref="SessionStoreOptions"/>) or the process ends; a restart forgets
/// them (the browser then gets a new one from <c>POST /session</c>). At most
/// <see cref="SessionStoreOptions.MaxCount"/> are held; past it <see cref="CreateAsync"/> refuses.
/// </summary>
/// <remarks>
/// Expired sessions are removed when they are looked up and by <see cref="PurgeExpiredAsync"/>, which the broker
/// runs on a timer (every <c>IdleTimeout</c>/4, at most a minute). So the store holds at most what was made within
/// one idle timeout plus one sweep, and never more than <c>MaxCount</c>.
/// </remarks>
public sealed class InMemorySessionStore : ISessionStore
{
    // A full store sweeps before it refuses, but at most this often: a loop of refused creates must not turn
    // every request into a walk over 100,000 sessions.
    private static readonly TimeSpan FullSweepInterval = TimeSpan.FromSeconds(1);

    // Ordinal comparers: ids and keys are random ASCII, culture rules would only cost time.
    private readonly ConcurrentDictionary<string, SessionEntry> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _idByCookieKey = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _idleTicks;
    private readonly long _lifetimeTicks;
    private readonly int _maxCount;

    // Kept beside the dictionary: ConcurrentDictionary.Count takes every lock, and Create reads the count each time.
    private int _count;
    private long _nextFullSweepUtcTicks;

    /// <summary>Creates a store with the default lifetimes and bound, on the system clock.</summary>
    public InMemorySessionStore()
        : this(new SessionStoreOptions(), TimeProvider.System)
    {
    }

    /// <summary>Creates a store with <paramref name="options"/> on <paramref name="time"/>.</summary>
    public InMemorySessionStore(SessionStoreOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _idleTicks = options.IdleTimeout.Ticks;
        _lifetimeTicks = options.Lifetime.Ticks;
        _maxCount = options.MaxCount;
    }

    /// <summary>How many sessions the store holds (expired ones included until they are swept).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    long? ISessionStore.Count => Count;

    private long Now => _time.GetUtcNow().UtcTicks;

    /// <inheritdoc />
    public ValueTask CreateAsync(BrokerSession session, string? cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        Reserve();
        if (!_byId.TryAdd(session.SessionId, new SessionEntry(session, cookieKey, Now)))
        {
            Interlocked.Decrement(ref _count);
            throw new InvalidOperationException("The session id is already in use.");
        }

        if (cookieKey is not null && !_idByCookieKey.TryAdd(cookieKey, session.SessionId))
        {
            // Undo the first half so a failed create leaves nothing behind. The message names no key: keys are secrets.
            _byId.TryRemove(session.SessionId, out _);
            Interlocked.Decrement(ref _count);
            throw new InvalidOperationException("The cookie key is already in use.");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> FindByIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return ValueTask.FromResult(Use(sessionId)?.Session);
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> FindByCookieKeyAsync(string cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cookieKey);
        return ValueTask.FromResult(_idByCookieKey.TryGetValue(cookieKey, out var id) ? Use(id)?.Session : null);
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> BindUserAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(userId);
        if (Use(sessionId) is not { } entry)
        {
            return ValueTask.FromResult<BrokerSession?>(null);
        }

        // Compare-and-swap loop: two binds racing on one session both land in some order, neither is lost
        // half-way, and readers never block.
        while (true)
        {
            var current = entry.Session;
            if (current.UserId == userId)
            {
                return ValueTask.FromResult<BrokerSession?>(current);
            }

            var bound = current with { UserId = userId };
            if (entry.TrySwap(current, bound))
            {
                return ValueTask.FromResult<BrokerSession?>(bound);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> TouchAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return ValueTask.FromResult(Use(sessionId) is not null);
    }

    /// <inheritdoc />
    public ValueTask<int> PurgeExpiredAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Purge(Now));

    /// <summary>Takes a place for one more session, sweeping once when the store looks full; refuses when it is.</summary>
    private void Reserve()
    {
        if (Interlocked.Increment(ref _count) <= _maxCount)
        {
            return;
        }

        Interlocked.Decrement(ref _count);
        var now = Now;
        var due = Interlocked.Read(ref _nextFullSweepUtcTicks);
        // Only the caller that moves the deadline sweeps: concurrent refused creates never sweep together.
        if (now >= due && Interlocked.CompareExchange(ref _nextFullSweepUtcTicks, now + FullSweepInterval.Ticks, due) == due)
        {
            Purge(now);
        }

        if (Interlocked.Increment(ref _count) > _maxCount)
        {
            Interlocked.Decrement(ref _count);
            throw new SessionLimitExceededException();
        }
    }

    /// <summary>The live entry of <paramref name="sessionId"/>, marked used; an expired one is removed instead.</summary>
    private SessionEntry? Use(string sessionId)
    {
        if (!_byId.TryGetValue(sessionId, out var entry))
        {
            return null;
        }

        var now = Now;
        if (now >= entry.ExpiresAtUtcTicks(_idleTicks, _lifetimeTicks))
        {
            Remove(sessionId, entry);
            return null;
        }

        entry.Touch(now);
        return entry;
    }

    private int Purge(long now)
    {
        int removed = 0;
        // The dictionary's own enumerator: no lock and no snapshot; removing while walking is allowed.
        foreach (var (id, entry) in _byId)
        {
            if (now >= entry.ExpiresAtUtcTicks(_idleTicks, _lifetimeTicks) && Remove(id, entry))
            {
                removed++;
            }
        }

        return removed;
    }

    private bool Remove(string sessionId, SessionEntry entry)
    {
        // Remove this entry only: never a newer one that took the id (ids are random, but the contract is exact).
        if (!_byId.TryRemove(KeyValuePair.Create(sessionId, entry)))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        if (entry.CookieKey is not null)
        {
            _idByCookieKey.TryRemove(KeyValuePair.Create(entry.CookieKey, sessionId));
        }

        return true;
    }
}
