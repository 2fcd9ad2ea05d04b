using System.Net;
using Broker.Diagnostics;

namespace Broker.WebSockets.Internal;

/// <summary>
/// Counts this node's WebSocket connections, in all and per client address, from the upgrade to the close, and
/// refuses an upgrade past <c>Broker:WebSocket:MaxConnections</c> or <c>MaxConnectionsPerIp</c> (NATS's
/// <c>max_connections</c>; Centrifugo's client connection limit).
/// </summary>
/// <remarks>
/// One lock over a plain dictionary: upgrades come at most thousands a second, far from the message path, and a
/// lock keeps "increment, or remove at zero" exact where a lock-free map would race an increment against the
/// removal of the same address. The dictionary holds only addresses with an open connection.
/// </remarks>
internal sealed class ConnectionLimiter(int maxConnections, int maxPerIp)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perIp = [];
    private int _total;

    /// <summary>Connections now counted.</summary>
    public int Count => Volatile.Read(ref _total);

    /// <summary>Takes a place for a connection from <paramref name="address"/>; null when it got one, else the limit that refused it.</summary>
    public LimitKind? TryAcquire(IPAddress? address)
    {
        lock (_gate)
        {
            if (_total >= maxConnections)
            {
                return LimitKind.Connections;
            }

            if (address is not null)
            {
                var key = Normalize(address);
                _perIp.TryGetValue(key, out var count);
                if (count >= maxPerIp)
                {
                    return LimitKind.ConnectionsPerIp;
                }

                _perIp[key] = count + 1;
            }

            _total++;
            return null;
        }
    }

    /// <summary>Gives back the place of a connection that ended.</summary>
    public void Release(IPAddress? address)
    {
        lock (_gate)
        {
            _total--;
            if (address is not null)
            {
                var key = Normalize(address);
                if (_perIp.TryGetValue(key, out var count))
                {
                    if (count <= 1)
                    {
                        _perIp.Remove(key);
                    }
                    else
                    {
                        _perIp[key] = count - 1;
                    }
                }
            }
        }
    }

    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: one client, one count, whichever way it came.
    internal static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
