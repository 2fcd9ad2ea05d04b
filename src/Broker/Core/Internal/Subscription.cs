using Broker.Core;
using Broker.Engines;

namespace Broker.Core.Internal;

/// <summary>
/// One channel's interest of one subscriber, registered with the <see cref="Hub"/>: made by
/// <see cref="BrokerNode"/> once the rules passed, live from then on, and read through the
/// <see cref="SubscriptionFeed"/> it belongs to. The feed yields its <see cref="Start"/> (the
/// <c>subscribed</c> answer), then its catch-up, then what arrives live.
/// </summary>
/// <remarks>
/// A subscription is registered <i>pending</i>: while the hub reads the channel's history, live
/// messages are held aside. <see cref="Activate"/> then queues the held messages newer than what
/// history returned and goes live, under one lock, so a resuming subscriber sees no gap and no
/// duplicate however publishes race the subscribe. The catch-up itself stays here, outside the bounded
/// queue (a replay is bounded by the namespace's history, not by the subscriber's buffer), and the feed
/// yields it before anything the queue holds.
/// </remarks>
internal sealed class Subscription
{
    private readonly Lock _gate = new();
    private volatile bool _active;
    private List<ChannelMessage>? _held;
    private IReadOnlyList<Publication> _catchUp = [];
    private StreamPosition _floor;

    internal Subscription(string channel, SubscriberQueue queue, ClientInfo? client, bool receivesPresence)
    {
        Channel = channel;
        Queue = queue;
        Client = client;
        ReceivesPresence = receivesPresence;
    }

    /// <summary>The channel.</summary>
    public string Channel { get; }

    /// <summary>Where the channel's live messages go (shared by every subscription of a feed).</summary>
    public SubscriberQueue Queue { get; }

    /// <summary>The browser connection that subscribed; null for a backend.</summary>
    public ClientInfo? Client { get; }

    /// <summary>
    /// True when <c>join</c>/<c>leave</c> are queued too, and the subscriber is counted in the channel's
    /// presence: a browser in a namespace with presence on.
    /// </summary>
    public bool ReceivesPresence { get; }

    /// <summary>Where the subscriber starts, once subscribed: the <c>subscribed</c> answer.</summary>
    public SubscriptionStart Start { get; private set; } = null!;

    /// <summary>The publications the subscriber missed (when its <c>since</c> was recovered), oldest first.</summary>
    internal IReadOnlyList<Publication> CatchUp => _catchUp;

    /// <summary>Where the subscriber stands before its catch-up: its <c>since</c> when recovered, else <see cref="Start"/>'s position.</summary>
    internal StreamPosition CursorStart { get; private set; }

    /// <summary>Hot path: one volatile read, then a queue write.</summary>
    internal void Deliver(ChannelMessage message)
    {
        if (_active)
        {
            Queue.TryWrite(message);
            return;
        }

        lock (_gate)
        {
            if (!_active)
            {
                (_held ??= []).Add(message);
                return;
            }
        }

        Queue.TryWrite(message);
    }

    /// <summary>
    /// Set by the hub once history is read, then live: the replay, where the subscriber starts, and
    /// the held messages newer than that go to the queue.
    /// </summary>
    internal void Activate(SubscriptionStart start, IReadOnlyList<Publication> catchUp, StreamPosition cursorStart)
    {
        lock (_gate)
        {
            Start = start;
            _catchUp = catchUp;
            CursorStart = cursorStart;
            _floor = start.Position!.Value;
            if (_held is { } held)
            {
                foreach (var message in held)
                {
                    // What history returned, or what is older than where the subscriber starts, is not
                    // delivered twice.
                    if (message is Publication p && p.Offset <= _floor.Offset && string.Equals(p.Epoch, _floor.Epoch, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    // An epoch change that the history read already saw: the subscriber starts in it.
                    if (message is EpochChange e && e.Position.Offset <= _floor.Offset && string.Equals(e.Position.Epoch, _floor.Epoch, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    Queue.TryWrite(message);
                }
            }

            _held = null;
            _active = true;
        }
    }

    /// <summary>Drops the replay once the feed has yielded it, so it is not kept alive by the subscription.</summary>
    internal void ReleaseCatchUp() => _catchUp = [];
}
