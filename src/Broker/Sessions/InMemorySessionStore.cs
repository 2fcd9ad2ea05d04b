using System.Collections.Concurrent;

namespace Broker.Sessions;

/// <summary>
/// The default <see cref="ISessionStore"/>: sessions in two concurrent dictionaries, by id and by cookie key.
/// Sessions live as long as the process; a restart forgets them (the browser then gets a new one from
/// <c>POST /session</c>).
/// </summary>
public sealed class InMemorySessionStore : ISessionStore
{
    // Ordinal comparers: ids and keys are random ASCII, culture rules would only cost time.
    private readonly ConcurrentDictionary<string, BrokerSession> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _idByCookieKey = new(StringComparer.Ordinal);

    /// <summary>How many sessions the store holds.</summary>
    public int Count => _byId.Count;

    /// <inheritdoc />
    long? ISessionStore.Count => _byId.Count;

    /// <inheritdoc />
    public ValueTask CreateAsync(BrokerSession session, string? cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!_byId.TryAdd(session.SessionId, session))
        {
            throw new InvalidOperationException("The session id is already in use.");
        }

        if (cookieKey is not null && !_idByCookieKey.TryAdd(cookieKey, session.SessionId))
        {
            // Undo the first half so a failed create leaves nothing behind. The message names no key: keys are secrets.
            _byId.TryRemove(session.SessionId, out _);
            throw new InvalidOperationException("The cookie key is already in use.");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> FindByIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return ValueTask.FromResult(_byId.TryGetValue(sessionId, out var session) ? session : null);
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> FindByCookieKeyAsync(string cookieKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cookieKey);
        return ValueTask.FromResult(
            _idByCookieKey.TryGetValue(cookieKey, out var id) && _byId.TryGetValue(id, out var session) ? session : null);
    }

    /// <inheritdoc />
    public ValueTask<BrokerSession?> BindUserAsync(string sessionId, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(userId);

        // Compare-and-swap loop: two binds racing on one session both land in some order, neither is lost
        // half-way, and readers never block.
        while (_byId.TryGetValue(sessionId, out var current))
        {
            if (current.UserId == userId)
            {
                return ValueTask.FromResult<BrokerSession?>(current);
            }

            var bound = current with { UserId = userId };
            if (_byId.TryUpdate(sessionId, bound, current))
            {
                return ValueTask.FromResult<BrokerSession?>(bound);
            }
        }

        return ValueTask.FromResult<BrokerSession?>(null);
    }
}
