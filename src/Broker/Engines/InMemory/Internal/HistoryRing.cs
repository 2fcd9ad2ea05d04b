using Broker.Engines.InMemory;

namespace Broker.Engines.InMemory.Internal;

/// <summary>
/// A channel's kept publications: the newest <c>capacity</c>, each for at most <c>ttl</c>. A ring over
/// one array, allocated at first use, so appends never allocate. Not thread-safe: the channel's lock guards it.
/// </summary>
internal sealed class HistoryRing
{
    private readonly Publication?[] _items;
    private readonly TimeSpan _ttl;
    private int _head;  // index of the oldest kept publication
    private int _count;

    public HistoryRing(int capacity, TimeSpan ttl)
    {
        _items = new Publication?[capacity];
        _ttl = ttl;
    }

    public int Count => _count;

    public void Append(Publication publication)
    {
        int tail = (_head + _count) % _items.Length;
        _items[tail] = publication;
        if (_count == _items.Length)
        {
            _head = (_head + 1) % _items.Length;
        }
        else
        {
            _count++;
        }
    }

    /// <summary>Forgets publications older than the TTL at <paramref name="now"/>.</summary>
    public void Expire(DateTimeOffset now)
    {
        var cutoff = now - _ttl;
        while (_count > 0 && _items[_head]!.Time <= cutoff)
        {
            _items[_head] = null;
            _head = (_head + 1) % _items.Length;
            _count--;
        }
    }

    /// <summary>The oldest kept offset, or 0 when nothing is kept.</summary>
    public ulong OldestOffset => _count == 0 ? 0 : _items[_head]!.Offset;

    /// <summary>Copies up to <paramref name="limit"/> kept publications with offsets above <paramref name="afterOffset"/>, oldest first.</summary>
    public List<Publication> After(ulong afterOffset, int limit)
    {
        var result = new List<Publication>(Math.Min(limit, _count));
        for (int i = 0; i < _count && result.Count < limit; i++)
        {
            var publication = _items[(_head + i) % _items.Length]!;
            if (publication.Offset > afterOffset)
            {
                result.Add(publication);
            }
        }

        return result;
    }

    /// <summary>Copies the newest <paramref name="limit"/> kept publications, oldest first.</summary>
    public List<Publication> Last(int limit)
    {
        int take = Math.Min(limit, _count);
        var result = new List<Publication>(take);
        for (int i = _count - take; i < _count; i++)
        {
            result.Add(_items[(_head + i) % _items.Length]!);
        }

        return result;
    }
}
