using Broker.V1;

namespace Broker.Sdk.Internal;

/// <summary>
/// What a resuming subscription remembers across reconnects: the entries asked for and, per channel, the last
/// position given to the caller (or announced by <c>Subscribed</c>), to resume exact channels from and to drop
/// duplicates by. Not thread-safe: one enumerator owns it.
/// </summary>
internal sealed class SubscriptionState
{
    private readonly string[] _entries;
    private readonly Dictionary<string, Sdk.StreamPosition> _positions = new(StringComparer.Ordinal);

    // The entries whose Subscribed this connection has seen: a second one, or one naming a channel that is not an
    // entry (a channel under a prefix), is the broker telling of a new epoch.
    private readonly HashSet<string> _announced = new(StringComparer.Ordinal);

    public SubscriptionState(IEnumerable<string> channels, IReadOnlyDictionary<string, Sdk.StreamPosition>? since)
    {
        ArgumentNullException.ThrowIfNull(channels);
        _entries = channels.ToArray();
        if (_entries.Length == 0)
        {
            throw new ArgumentException("Name at least one channel.", nameof(channels));
        }

        if (since is not null)
        {
            foreach (var (channel, position) in since)
            {
                _positions[channel] = position;
            }
        }
    }

    /// <summary>The entries subscribed, as given.</summary>
    public IReadOnlyList<string> Channels => _entries;

    /// <summary>The last position known for a channel, or null.</summary>
    public Sdk.StreamPosition? PositionOf(string channel) => _positions.TryGetValue(channel, out var p) ? p : null;

    /// <summary>The request for the next connection (a new stream starts): every entry, and <c>since</c> for each exact entry with a known position.</summary>
    public SubscribeRequest BuildRequest(int buffer)
    {
        _announced.Clear();
        var request = new SubscribeRequest { Buffer = (uint)Math.Max(0, buffer) };
        request.Channels.Add(_entries);
        foreach (var entry in _entries)
        {
            if (!IsPrefix(entry) && _positions.TryGetValue(entry, out var position))
            {
                request.Since[entry] = new V1.StreamPosition { Epoch = position.Epoch ?? string.Empty, Offset = position.Offset };
            }
        }

        return request;
    }

    /// <summary>Notes a <c>Subscribed</c>; returns what to tell the caller.</summary>
    public ChannelSubscribed OnSubscribed(Subscribed subscribed, bool resubscribed)
    {
        Sdk.StreamPosition? position = subscribed.Position is { } p ? new Sdk.StreamPosition(p.Epoch, p.Offset) : null;
        if (position is { } top && !IsPrefix(subscribed.Channel) && (!subscribed.Recovered || !_positions.ContainsKey(subscribed.Channel)))
        {
            // Not recovered (or first time): the stream goes on from the channel's current top, so that is where to
            // resume from if the connection drops before the next publication. Recovered: keep ours, the replay follows.
            _positions[subscribed.Channel] = top;
        }

        bool epochChanged = !_announced.Add(subscribed.Channel) || Array.IndexOf(_entries, subscribed.Channel) < 0;
        return new ChannelSubscribed(subscribed.Channel, position, subscribed.Recovered, resubscribed) { EpochChanged = epochChanged };
    }

    /// <summary>True when the publication is new to the caller (and notes it); false for a duplicate by offset.</summary>
    public bool Accept(V1.Publication publication)
    {
        if (_positions.TryGetValue(publication.Channel, out var last)
            && string.Equals(last.Epoch, publication.Epoch, StringComparison.Ordinal)
            && publication.Offset <= last.Offset)
        {
            return false;
        }

        _positions[publication.Channel] = new Sdk.StreamPosition(publication.Epoch, publication.Offset);
        return true;
    }

    public static bool IsPrefix(string entry) => entry.EndsWith('*');
}
