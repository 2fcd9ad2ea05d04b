using Broker.Core.Internal;
using Broker.Engines;

namespace Broker.Core;

public sealed partial class BrokerNode
{
    /// <summary>
    /// A browser's <c>subscribe</c> (or one entry of <c>hello.resume</c>): checks the channel and the
    /// caller's permission, then subscribes it into a feed of its own, with a queue sized and governed by
    /// the channel's namespace. The feed yields the <c>subscribed</c> answer, the missed publications
    /// after <paramref name="since"/> when they are still kept, then what arrives live. A browser in a
    /// namespace with presence is counted in (and gets <c>join</c>/<c>leave</c>).
    /// </summary>
    /// <param name="caller">The subscriber.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="since">Resume after this position; null for live only.</param>
    /// <param name="listener">Told when the feed's queue gets a message or overflows.</param>
    /// <param name="cancellationToken">Cancels the subscribe (the feed is then not made).</param>
    public async ValueTask<Result<SubscriptionFeed>> SubscribeAsync(Caller caller, string? channel, StreamPosition? since, ISubscriberQueueListener? listener, CancellationToken cancellationToken)
    {
        if ((CheckChannel(caller, channel, Access.Read, out var policy) ?? CheckEngine("subscribe") ?? CheckQueues()) is { } refused)
        {
            return refused;
        }

        try
        {
            return await SubscribeOwnFeedAsync(caller, channel!, policy!, since, listener, cancellationToken);
        }
        catch (EngineUnavailableException)
        {
            return EngineUnavailable("subscribe");
        }
    }

    /// <summary>
    /// Subscribes a browser to one of its own personal channels (<c>$session:</c>, <c>$user:</c>), which
    /// it may not ask for by request: done at <c>hello</c>, before <c>welcome</c> lists them.
    /// </summary>
    public async ValueTask<SubscriptionFeed> SubscribePersonalAsync(Caller caller, string channel, StreamPosition? since, ISubscriberQueueListener? listener, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!caller.OwnsPersonal(channel))
        {
            throw new ArgumentException($"'{channel}' is not the caller's own personal channel.", nameof(channel));
        }

        var policy = _namespaces.Resolve(channel) ?? _namespaces.Default;
        return await SubscribeOwnFeedAsync(caller, channel, policy, since, listener, cancellationToken);
    }

    /// <summary>
    /// A feed whose subscriptions share one queue of <paramref name="capacity"/> messages and
    /// <paramref name="maxBytes"/> bytes that drops its oldest when full (a backend's <c>Subscribe</c>
    /// stream): add its entries with <see cref="SubscribeAsync(Caller, string, StreamPosition?, SubscriptionFeed, CancellationToken)"/>
    /// and <see cref="SubscribePrefixesAsync"/>, in order, then read it.
    /// </summary>
    public SubscriptionFeed OpenFeed(int capacity, long maxBytes) =>
        new(_hub, new SubscriberQueue(capacity, maxBytes, OverflowPolicy.DropOldest, metrics: _metrics, budget: _queues), _metrics);

    /// <summary>Adds an exact channel to a shared <paramref name="feed"/>: checks it, subscribes it, and queues its answer and catch-up after those added before.</summary>
    public async ValueTask<BrokerError?> SubscribeAsync(Caller caller, string channel, StreamPosition? since, SubscriptionFeed feed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if ((CheckChannel(caller, channel, Access.Read, out var policy) ?? CheckEngine("subscribe") ?? CheckQueues()) is { } refused)
        {
            return refused;
        }

        var subscription = new Subscription(channel, feed.Queue, caller.Client, receivesPresence: caller.IsBrowser && policy!.Presence);
        try
        {
            await _hub.SubscribeAsync(subscription, since, cancellationToken);
        }
        catch (EngineUnavailableException)
        {
            return EngineUnavailable("subscribe");
        }

        feed.Add(subscription);
        await JoinAsync(subscription, cancellationToken);
        return null;
    }

    /// <summary>
    /// Adds prefix entries (<c>chat:*</c>) to a shared <paramref name="feed"/>: every channel that starts
    /// with one of them and is not one of <paramref name="exactChannels"/> (so a publication several entries
    /// match comes once). Live when this completes, with no position to resume from (PROTOCOL.md).
    /// </summary>
    public async ValueTask<BrokerError?> SubscribePrefixesAsync(IReadOnlyList<string> entries, IEnumerable<string> exactChannels, SubscriptionFeed feed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(feed);
        foreach (var entry in entries)
        {
            if (CheckPrefix(entry) is { } refused)
            {
                return refused;
            }
        }

        if ((CheckEngine("subscribe")) is { } unavailable)
        {
            return unavailable;
        }

        var prefix = new PrefixSubscription(entries, exactChannels, feed.Queue);
        try
        {
            await _hub.AddPrefixAsync(prefix, cancellationToken);
        }
        catch (EngineUnavailableException)
        {
            return EngineUnavailable("subscribe");
        }

        foreach (var entry in entries)
        {
            feed.AddPrefix(prefix, entry);
        }

        return null;
    }

    /// <summary>A prefix entry: the start of a channel name followed by <c>*</c> (a lone <c>*</c> takes every channel).</summary>
    public static BrokerError? CheckPrefix(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!entry.EndsWith('*'))
        {
            return BadRequest(ChannelNames.NotAPrefix(entry));
        }

        var stem = entry.AsSpan(0, entry.Length - 1);
        // A prefix is the start of a channel name: its characters must be channel characters.
        return stem.IsEmpty || ChannelNames.Classify(string.Concat(stem, "x")) != ChannelKind.Invalid
            ? null
            : BadRequest(ChannelNames.NotAPrefix(entry));
    }

    private async ValueTask<SubscriptionFeed> SubscribeOwnFeedAsync(Caller caller, string channel, NamespacePolicy policy, StreamPosition? since, ISubscriberQueueListener? listener, CancellationToken cancellationToken)
    {
        var queue = SubscriberQueue.For(policy, listener, _metrics, _queues);
        var subscription = new Subscription(channel, queue, caller.Client, receivesPresence: caller.IsBrowser && policy.Presence);
        await _hub.SubscribeAsync(subscription, since, cancellationToken);
        var feed = new SubscriptionFeed(_hub, queue, _metrics);
        feed.Add(subscription);
        try
        {
            await JoinAsync(subscription, cancellationToken);
        }
        catch
        {
            await feed.CloseAsync(reason: null);  // subscribed but not counted in: take it back whole
            throw;
        }

        return feed;
    }

    /// <summary>Counts a browser into the channel's presence once it is live, so it sees its own <c>join</c> like everyone's.</summary>
    private ValueTask JoinAsync(Subscription subscription, CancellationToken cancellationToken) =>
        subscription.ReceivesPresence ? _hub.JoinAsync(subscription.Channel, subscription.Client!, cancellationToken) : ValueTask.CompletedTask;
}
