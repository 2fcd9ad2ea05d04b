using Broker.Engines.InMemory;

namespace Broker.Engines.InMemory.Internal;

/// <summary>
/// A channel's idempotency keys seen within the window, with the position of their first publication.
/// Keys expire in the order they were added, so a FIFO of expiry times prunes in O(1) per key.
/// Not thread-safe: the channel's lock guards it.
/// </summary>
internal sealed class IdempotencyKeys
{
    private readonly Dictionary<string, (StreamPosition Position, DateTimeOffset Expires)> _keys = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, DateTimeOffset Expires)> _expiry = new();

    public int Count => _keys.Count;

    public bool TryGet(string key, DateTimeOffset now, out StreamPosition position)
    {
        Prune(now);
        if (_keys.TryGetValue(key, out var entry))
        {
            position = entry.Position;
            return true;
        }

        position = default;
        return false;
    }

    public void Add(string key, StreamPosition position, DateTimeOffset expires)
    {
        _keys[key] = (position, expires);
        _expiry.Enqueue((key, expires));
    }

    public void Prune(DateTimeOffset now)
    {
        while (_expiry.TryPeek(out var head) && head.Expires <= now)
        {
            _expiry.Dequeue();
            // The key may have been added again later with a later expiry; only the matching entry goes.
            if (_keys.TryGetValue(head.Key, out var entry) && entry.Expires == head.Expires)
            {
                _keys.Remove(head.Key);
            }
        }
    }
}
