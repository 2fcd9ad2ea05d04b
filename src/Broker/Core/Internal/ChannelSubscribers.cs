using Broker.Core;
namespace Broker.Core.Internal;

/// <summary>
/// The subscriptions of one channel on this broker. Fan-out reads <see cref="Snapshot"/> with no lock;
/// subscribe and unsubscribe replace the array under a lock (copy-on-write), because publications far
/// outnumber subscription changes.
/// </summary>
internal sealed class ChannelSubscribers
{
    private volatile Subscription[] _snapshot = [];

    /// <summary>Set once the last subscription left and the entry was taken out of the registry.</summary>
    public bool Removed;

    public Subscription[] Snapshot => _snapshot;

    public void Add(Subscription subscription)
    {
        var old = _snapshot;
        var next = new Subscription[old.Length + 1];
        old.CopyTo(next, 0);
        next[^1] = subscription;
        _snapshot = next;
    }

    /// <summary>Removes <paramref name="subscription"/>; true when it was there. The caller holds the lock.</summary>
    public bool Remove(Subscription subscription)
    {
        var old = _snapshot;
        int index = Array.IndexOf(old, subscription);
        if (index < 0)
        {
            return false;
        }

        var next = new Subscription[old.Length - 1];
        Array.Copy(old, 0, next, 0, index);
        Array.Copy(old, index + 1, next, index, old.Length - index - 1);
        _snapshot = next;
        return true;
    }
}
