using System.Collections.Concurrent;

namespace Broker.Core;

/// <summary>
/// This broker's open connections, indexed by connection, session and user: what a backend's
/// <c>Disconnect</c> reaches, and what stats count. Transports register their connections here, so
/// none reaches into another; a cluster routes a <c>Disconnect</c> to every node's registry through
/// this one seam.
/// </summary>
/// <remarks>
/// Connections come and go far less often than messages: the session and user indexes are plain sets
/// under one lock; the by-id table is lock-free so the stats walk takes no lock.
/// </remarks>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<IClientConnection, byte> _all = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<IClientConnection>> _bySession = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<IClientConnection>> _byUser = new(StringComparer.Ordinal);

    /// <summary>Open connections.</summary>
    public int Count => _all.Count;

    /// <summary>Adds an open connection (a browser: once it said hello).</summary>
    public void Add(IClientConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_all.TryAdd(connection, 0))
        {
            return;
        }

        lock (_gate)
        {
            Index(_bySession, connection.Client.SessionId, connection);
            Index(_byUser, connection.Client.UserId, connection);
        }
    }

    /// <summary>Removes a connection that closed. Safe to call twice.</summary>
    public void Remove(IClientConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_all.TryRemove(connection, out _))
        {
            return;
        }

        lock (_gate)
        {
            Unindex(_bySession, connection.Client.SessionId, connection);
            Unindex(_byUser, connection.Client.UserId, connection);
        }
    }

    /// <summary>
    /// Ends the connections of a session, of a user, or with both set of that user in that session
    /// (PROTOCOL.md, gRPC <c>Disconnect</c>). Returns how many this call ended; a connection already
    /// closing is not counted again.
    /// </summary>
    public int Disconnect(string? sessionId, string? userId, string reason, bool reconnect)
    {
        bool bySession = !string.IsNullOrEmpty(sessionId);
        bool byUser = !string.IsNullOrEmpty(userId);
        if (!bySession && !byUser)
        {
            return 0;
        }

        IClientConnection[] matched;
        lock (_gate)
        {
            // Start from the smaller index the request names; the other condition filters.
            var set = bySession ? Find(_bySession, sessionId!) : Find(_byUser, userId!);
            matched = set is null ? [] : [.. set];
        }

        int count = 0;
        foreach (var connection in matched)
        {
            if (bySession && byUser && !string.Equals(connection.Client.UserId, userId, StringComparison.Ordinal))
            {
                continue;
            }

            // Outside the lock: ending a connection queues its close, and must not hold up the registry.
            if (connection.Disconnect(reason, reconnect))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The sessions that have a connection here now (a copy: for the session sweep, not the hot path).</summary>
    public string[] ConnectedSessions()
    {
        lock (_gate)
        {
            return [.. _bySession.Keys];
        }
    }

    /// <summary>Ends every connection of a session that ended (close 4003); returns how many this call ended.</summary>
    public int EndSession(string sessionId, string reason)
    {
        IClientConnection[] matched;
        lock (_gate)
        {
            matched = Find(_bySession, sessionId) is { } set ? [.. set] : [];
        }

        int count = 0;
        foreach (var connection in matched)
        {
            // Outside the lock, as in Disconnect.
            if (connection.EndSession(reason))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The most bytes queued for any one connection (a walk over the connections: for metrics and stats, not the hot path).</summary>
    public long MaxPendingBytes()
    {
        long max = 0;
        // The dictionary's own enumerator: no lock and no copy (Keys would take every lock and copy
        // 10,000 references each time the stats are sampled).
        foreach (var (connection, _) in _all)
        {
            max = Math.Max(max, connection.PendingBytes);
        }

        return max;
    }

    private static HashSet<IClientConnection>? Find(Dictionary<string, HashSet<IClientConnection>> index, string key) =>
        index.TryGetValue(key, out var set) ? set : null;

    private static void Index(Dictionary<string, HashSet<IClientConnection>> index, string? key, IClientConnection connection)
    {
        if (key is null)
        {
            return;
        }

        if (!index.TryGetValue(key, out var set))
        {
            index[key] = set = [];
        }

        set.Add(connection);
    }

    private static void Unindex(Dictionary<string, HashSet<IClientConnection>> index, string? key, IClientConnection connection)
    {
        if (key is not null && index.TryGetValue(key, out var set) && set.Remove(connection) && set.Count == 0)
        {
            index.Remove(key);
        }
    }
}
