using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// One subscriber's interest in one channel, registered with the <see cref="Hub"/>: the channel's
/// publications (and, when <see cref="ReceivesPresence"/>, its <c>join</c>/<c>leave</c>) go into
/// <see cref="Queue"/>. Several subscriptions may share a queue (a gRPC stream of many channels).
/// </summary>
/// <remarks>
/// A subscription starts <i>pending</i>: while the hub reads the channel's history, live messages are
/// held aside. <see cref="Activate"/> then queues the missed publications, the held messages that are
/// newer than what history returned, and goes live, all under one lock, so a resuming subscriber sees
/// no gap and no duplicate however publishes race the subscribe. The transport calls
/// <see cref="Activate"/> after it has queued its own <c>subscribed</c> reply, so that reply comes first.
/// </remarks>
public sealed class Subscription
{
    private readonly Lock _gate = new();
    private volatile bool _active;
    private List<ChannelMessage>? _held;
    private IReadOnlyList<Publication>? _catchUp;
    private StreamPosition _floor;

    /// <summary>Creates a pending subscription of <paramref name="channel"/> into <paramref name="queue"/>.</summary>
    public Subscription(string channel, SubscriberQueue queue, ClientInfo? client = null, bool receivesPresence = false)
    {
        Channel = channel;
        Queue = queue;
        Client = client;
        ReceivesPresence = receivesPresence;
    }

    /// <summary>The channel.</summary>
    public string Channel { get; }

    /// <summary>Where the channel's messages go.</summary>
    public SubscriberQueue Queue { get; }

    /// <summary>The subscriber, for presence and logs; null for a backend.</summary>
    public ClientInfo? Client { get; }

    /// <summary>True when <c>join</c>/<c>leave</c> should be queued too (browsers); gRPC has no such delivery.</summary>
    public bool ReceivesPresence { get; }

    /// <summary>
    /// Queues the catch-up and goes live. Call once, after <see cref="Hub.SubscribeAsync"/> returned and
    /// the transport queued its reply to the subscribe.
    /// </summary>
    public void Activate()
    {
        lock (_gate)
        {
            if (_active)
            {
                return;
            }

            if (_catchUp is { } catchUp)
            {
                for (int i = 0; i < catchUp.Count; i++)
                {
                    Queue.TryWrite(catchUp[i]);
                }
            }

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

                    Queue.TryWrite(message);
                }
            }

            _held = null;
            _catchUp = null;
            _active = true;
        }
    }

    /// <summary>
    /// Takes the replay out of the subscription, for a transport that writes it itself right after its
    /// <c>subscribed</c> reply (so a resume of several channels reads subscribed, its replay, subscribed,
    /// its replay …). <see cref="Activate"/> then only queues what arrived live.
    /// </summary>
    public IReadOnlyList<Publication> TakeCatchUp()
    {
        lock (_gate)
        {
            var catchUp = _catchUp ?? [];
            _catchUp = null;
            return catchUp;
        }
    }

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

    /// <summary>Set by the hub once history is read: what to replay, and the position the subscriber starts from.</summary>
    internal void SetCatchUp(IReadOnlyList<Publication> catchUp, StreamPosition floor)
    {
        lock (_gate)
        {
            _catchUp = catchUp;
            _floor = floor;
        }
    }
}
