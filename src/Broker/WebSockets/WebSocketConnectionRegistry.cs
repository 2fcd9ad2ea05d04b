using System.Collections.Concurrent;

namespace Broker.WebSockets;

/// <summary>The live browser connections of this broker: for backends' <c>Disconnect</c>, drain and stats.</summary>
public sealed class WebSocketConnectionRegistry
{
    private readonly ConcurrentDictionary<string, WebSocketConnection> _connections = new(StringComparer.Ordinal);

    /// <summary>Connections that said hello and are not yet closed.</summary>
    public int Count => _connections.Count;

    /// <summary>
    /// Closes the connections of a session, of a user, or with both set of that user in that session:
    /// each gets <c>disconnect</c> with <paramref name="reason"/> and <paramref name="reconnect"/>, then
    /// close 4002 (PROTOCOL.md, gRPC <c>Disconnect</c>). Returns how many this call closed.
    /// </summary>
    public int Disconnect(string? sessionId, string? userId, string reason, bool reconnect)
    {
        if (string.IsNullOrEmpty(sessionId) && string.IsNullOrEmpty(userId))
        {
            return 0;
        }

        int count = 0;
        foreach (var (_, connection) in _connections)
        {
            var client = connection.Client;
            if (client is null
                || (!string.IsNullOrEmpty(sessionId) && !string.Equals(client.SessionId, sessionId, StringComparison.Ordinal))
                || (!string.IsNullOrEmpty(userId) && !string.Equals(client.UserId, userId, StringComparison.Ordinal)))
            {
                continue;
            }

            // A socket already closing (by the client, an earlier Disconnect, a drain) is not counted again.
            if (connection.CloseWithDisconnect(WebSocketCloseCodes.DisconnectedByBackend, reason, reconnect))
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
        // The dictionary's own enumerator: no lock and no copy (Values would take every lock and copy
        // 10,000 references each time the stats are sampled).
        foreach (var (_, connection) in _connections)
        {
            max = Math.Max(max, connection.PendingBytes);
        }

        return max;
    }

    internal void Add(WebSocketConnection connection) => _connections[connection.ConnectionId] = connection;

    internal void Remove(WebSocketConnection connection) => _connections.TryRemove(new(connection.ConnectionId, connection));
}
