using Broker.Engines.InMemory;
namespace Broker.Engines.InMemory.Internal;

/// <summary>
/// A channel's members: connections per (session, user), and per user across sessions so that
/// <c>join</c> comes with a user's first connection and <c>leave</c> with the last.
/// Not thread-safe: the channel's lock guards it.
/// </summary>
internal sealed class PresenceSet
{
    private readonly Dictionary<(string Session, string? User), int> _members = new();
    private readonly Dictionary<string, int> _userConnections = new(StringComparer.Ordinal);

    public bool IsEmpty => _members.Count == 0;

    /// <summary>Counts a connection in; true when it is the user's first (a <c>join</c>).</summary>
    public bool Add(string sessionId, string? userId)
    {
        var key = (sessionId, userId);
        _members[key] = _members.GetValueOrDefault(key) + 1;
        if (userId is null)
        {
            return false;
        }

        int count = _userConnections.GetValueOrDefault(userId) + 1;
        _userConnections[userId] = count;
        return count == 1;
    }

    /// <summary>Counts a connection out; true when it was the user's last (a <c>leave</c>).</summary>
    public bool Remove(string sessionId, string? userId)
    {
        var key = (sessionId, userId);
        if (!_members.TryGetValue(key, out int count))
        {
            return false;  // not a member: a leave without its join is ignored
        }

        if (count == 1)
        {
            _members.Remove(key);
        }
        else
        {
            _members[key] = count - 1;
        }

        if (userId is null)
        {
            return false;
        }

        int userCount = _userConnections[userId] - 1;
        if (userCount == 0)
        {
            _userConnections.Remove(userId);
            return true;
        }

        _userConnections[userId] = userCount;
        return false;
    }

    public List<PresenceEntry> Snapshot()
    {
        var entries = new List<PresenceEntry>(_members.Count);
        foreach (var ((session, user), connections) in _members)
        {
            entries.Add(new PresenceEntry(session, user, connections));
        }

        return entries;
    }
}
