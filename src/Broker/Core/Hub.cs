using System.Collections.Concurrent;
using Broker.Core.Internal;
using Broker.Diagnostics;
using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// This broker's subscriptions and its fan-out: the engine hands every publication to
/// <see cref="OnPublication"/>, which queues it for each local subscriber of its channel and for each
/// matching prefix subscription, and returns. Transports subscribe and publish through here.
/// </summary>
public sealed class Hub : IEngineHandler
{
    private static readonly IReadOnlyList<Publication> NoPublications = Array.Empty<Publication>();

    // Channel -> its local subscriptions. Lock-free reads on the publish path; writes lock one of 64
    // stripes (the sharding centrifuge does by hand), then the channel's own entry.
    private readonly ConcurrentDictionary<string, ChannelSubscribers> _channels = new(concurrencyLevel: 64, capacity: 1024, StringComparer.Ordinal);
    private readonly Lock _prefixGate = new();
    private volatile PrefixSubscription[] _prefixes = [];
    private readonly IEngine _engine;
    private readonly NamespaceRegistry _namespaces;
    private readonly BrokerMetrics? _metrics;
    private long _subscriptions;
    private long _publications;
    private long _deliveries;

    /// <summary>Creates the hub over <paramref name="engine"/>; <see cref="StartAsync"/> connects them.</summary>
    public Hub(IEngine engine, NamespaceRegistry namespaces, BrokerMetrics? metrics = null)
    {
        _engine = engine;
        _namespaces = namespaces;
        _metrics = metrics;
    }

    /// <summary>The engine behind the hub.</summary>
    public IEngine Engine => _engine;

    /// <summary>Channels with at least one local subscription.</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Local exact-channel subscriptions.</summary>
    public long SubscriptionCount => Interlocked.Read(ref _subscriptions);

    /// <summary>Publications this broker has fanned out since start.</summary>
    public long PublicationCount => Interlocked.Read(ref _publications);

    /// <summary>Messages queued to subscribers since start (one per subscriber per publication).</summary>
    public long DeliveryCount => Interlocked.Read(ref _deliveries);

    /// <summary>Starts the engine, delivering to this hub.</summary>
    public ValueTask StartAsync(CancellationToken cancellationToken) => _engine.StartAsync(this, cancellationToken);

    /// <summary>
    /// Publishes through the engine with the history options of the channel's namespace (the engine knows
    /// no namespaces); fan-out happens before this completes for the in-memory engine. No rule is checked
    /// here: requests come through the front door, <c>BrokerNode</c>.
    /// </summary>
    public ValueTask<PublishResult> PublishAsync(PublishCommand command, CancellationToken cancellationToken)
    {
        if (command.History == default)
        {
            command = command with { History = (_namespaces.Resolve(command.Channel) ?? _namespaces.Default).History };
        }

        return _engine.PublishAsync(command, cancellationToken);
    }

    /// <summary>
    /// Registers <paramref name="subscription"/>, finds where it starts (after <paramref name="since"/>
    /// when that is still recoverable, its catch-up then kept on the subscription, else at the channel's
    /// current position) and makes it live. Live messages that arrive meanwhile are held and then queued,
    /// without the ones history returned.
    /// </summary>
    internal async ValueTask SubscribeAsync(Subscription subscription, StreamPosition? since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        Register(subscription);
        bool interested = false;
        try
        {
            await _engine.SubscribeAsync(subscription.Channel, cancellationToken);
            interested = true;
            var query = since is { } position ? HistoryQuery.After(position) : HistoryQuery.PositionOnly;
            var history = await _engine.ReadHistoryAsync(subscription.Channel, query, cancellationToken);
            bool recovered = since is not null && history.Recovered;
            if (since is not null)
            {
                _metrics?.RecordRecovery(recovered);
            }

            var kind = ChannelNames.Classify(subscription.Channel);
            var start = new SubscriptionStart(subscription.Channel, history.Position, recovered, Personal: kind is ChannelKind.Session or ChannelKind.User);
            subscription.Activate(start, recovered ? history.Publications : NoPublications, recovered ? since!.Value : history.Position);
        }
        catch
        {
            Unregister(subscription);
            if (interested)
            {
                await _engine.UnsubscribeAsync(subscription.Channel, CancellationToken.None);
            }

            throw;
        }
    }

    /// <summary>Removes <paramref name="subscription"/>; nothing more is queued for it. Safe to call twice.</summary>
    internal ValueTask UnsubscribeAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return Unregister(subscription) ? _engine.UnsubscribeAsync(subscription.Channel, cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>Registers a prefix subscription; it is live when this completes.</summary>
    internal async ValueTask AddPrefixAsync(PrefixSubscription subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        int subscribed = 0;
        try
        {
            foreach (var entry in subscription.Entries)
            {
                await _engine.SubscribeAsync(entry, cancellationToken);
                subscribed++;
            }
        }
        catch
        {
            // Take back the entries already made: a failed prefix subscribe leaves no interest behind.
            foreach (var entry in subscription.Entries.Take(subscribed))
            {
                await _engine.UnsubscribeAsync(entry, CancellationToken.None);
            }

            throw;
        }

        lock (_prefixGate)
        {
            _prefixes = [.. _prefixes, subscription];
        }
    }

    /// <summary>Removes a prefix subscription. Safe to call twice.</summary>
    internal async ValueTask RemovePrefixAsync(PrefixSubscription subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        lock (_prefixGate)
        {
            int index = Array.IndexOf(_prefixes, subscription);
            if (index < 0)
            {
                return;
            }

            _prefixes = [.. _prefixes[..index], .. _prefixes[(index + 1)..]];
        }

        foreach (var entry in subscription.Entries)
        {
            await _engine.UnsubscribeAsync(entry, cancellationToken);
        }
    }

    /// <summary>Reads a channel's history (PROTOCOL.md <c>history</c>).</summary>
    public ValueTask<HistoryResult> ReadHistoryAsync(string channel, HistoryQuery query, CancellationToken cancellationToken) =>
        _engine.ReadHistoryAsync(channel, query, cancellationToken);

    /// <summary>Counts a connection into a channel's presence.</summary>
    public ValueTask JoinAsync(string channel, ClientInfo member, CancellationToken cancellationToken) =>
        _engine.JoinAsync(channel, member, cancellationToken);

    /// <summary>Counts a connection out of a channel's presence.</summary>
    public ValueTask LeaveAsync(string channel, ClientInfo member, CancellationToken cancellationToken) =>
        _engine.LeaveAsync(channel, member, cancellationToken);

    /// <summary>A channel's members.</summary>
    public ValueTask<IReadOnlyList<PresenceEntry>> GetPresenceAsync(string channel, CancellationToken cancellationToken) =>
        _engine.GetPresenceAsync(channel, cancellationToken);

    /// <summary>
    /// The fan-out: queues <paramref name="publication"/> for every local subscriber of its channel and
    /// every matching prefix subscription. Never waits; no allocation per subscriber.
    /// </summary>
    public void OnPublication(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        long delivered = 0;
        if (_channels.TryGetValue(publication.Channel, out var subscribers))
        {
            var snapshot = subscribers.Snapshot;
            for (int i = 0; i < snapshot.Length; i++)
            {
                snapshot[i].Deliver(publication);
            }

            delivered = snapshot.Length;
        }

        var prefixes = _prefixes;
        for (int i = 0; i < prefixes.Length; i++)
        {
            if (prefixes[i].Matches(publication.Channel) && prefixes[i].Queue.TryWrite(publication))
            {
                delivered++;
            }
        }

        // Two counters per publication, not per delivery: a thousand subscribers cost one Interlocked.Add.
        Interlocked.Increment(ref _publications);
        Interlocked.Add(ref _deliveries, delivered);
    }

    /// <summary>Queues a <c>join</c>/<c>leave</c> for the channel's subscribers that take presence.</summary>
    public void OnPresence(PresenceEvent presence)
    {
        ArgumentNullException.ThrowIfNull(presence);
        if (!_channels.TryGetValue(presence.Channel, out var subscribers))
        {
            return;
        }

        foreach (var subscription in subscribers.Snapshot)
        {
            if (subscription.ReceivesPresence)
            {
                subscription.Deliver(presence);
            }
        }
    }

    /// <summary>
    /// A subscribed channel lost its history (a new epoch): every local subscriber of it, and every matching
    /// prefix subscription, is queued the change in order with the publications; its feed yields an
    /// unsolicited <c>subscribed</c>.
    /// </summary>
    public void OnEpochChanged(string channel, StreamPosition position)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var change = new EpochChange(channel, position);
        bool any = false;
        if (_channels.TryGetValue(channel, out var subscribers))
        {
            foreach (var subscription in subscribers.Snapshot)
            {
                subscription.Deliver(change);
                any = true;
            }
        }

        foreach (var prefix in _prefixes)
        {
            if (prefix.Matches(channel))
            {
                prefix.Queue.TryWrite(change);
                any = true;
            }
        }

        if (any)
        {
            _metrics?.RecordEpochChange();
        }
    }

    /// <summary>A control message from another node: handed to the <see cref="ControlHandler"/>, if one is set.</summary>
    public void OnControl(string fromNode, ReadOnlyMemory<byte> message) => ControlHandler?.Invoke(fromNode, message);

    /// <summary>Where control messages go (the core's cluster control); set once at start, before the engine starts.</summary>
    internal Action<string, ReadOnlyMemory<byte>>? ControlHandler { get; set; }

    private void Register(Subscription subscription)
    {
        while (true)
        {
            var subscribers = _channels.GetOrAdd(subscription.Channel, static _ => new ChannelSubscribers());
            lock (subscribers)
            {
                if (subscribers.Removed)
                {
                    continue;  // emptied and removed between lookup and lock: take the new entry
                }

                subscribers.Add(subscription);
            }

            Interlocked.Increment(ref _subscriptions);
            return;
        }
    }

    private bool Unregister(Subscription subscription)
    {
        if (!_channels.TryGetValue(subscription.Channel, out var subscribers))
        {
            return false;
        }

        lock (subscribers)
        {
            if (!subscribers.Remove(subscription))
            {
                return false;
            }

            if (subscribers.Snapshot.Length == 0)
            {
                subscribers.Removed = true;
                _channels.TryRemove(new KeyValuePair<string, ChannelSubscribers>(subscription.Channel, subscribers));
            }
        }

        Interlocked.Decrement(ref _subscriptions);
        return true;
    }
}
