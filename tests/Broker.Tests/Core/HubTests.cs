using System.Text;
using Broker.Core.Handlers;
using Broker.Core.Internal;
using Broker.Core;
using Broker.Engines.InMemory;
using Broker.Engines;
using Broker.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Broker.Tests.Core;

public class HubTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly NamespaceRegistry _namespaces = TestNamespaces.Create();
    private Hub _hub = null!;
    private BrokerNode _node = null!;

    public async Task InitializeAsync()
    {
        _hub = new Hub(new InMemoryEngine(TimeProvider.System), _namespaces);
        _node = new BrokerNode(_hub, _namespaces, new HandlerRegistry(Options.Create(new HandlerOptions()), TimeProvider.System), new ConnectionRegistry(), Options.Create(new BrokerOptions()));
        await _hub.StartAsync(None);
    }

    public async Task DisposeAsync() => await _hub.Engine.DisposeAsync();

    private ValueTask<PublishResult> Publish(string channel, string json = "{}") =>
        _hub.PublishAsync(new PublishCommand(channel, "message", Encoding.UTF8.GetBytes(json)), None);

    /// <summary>A browser that takes presence, or a backend that does not.</summary>
    private static Caller CallerFor(bool presence) => presence ? Caller.Browser(new ClientInfo("s", "u", "c")) : Caller.Backend;

    /// <summary>A subscription in a feed of its own, sized by its namespace.</summary>
    private async Task<SubscriptionFeed> Subscribe(string channel, StreamPosition? since = null, bool presence = false)
    {
        var result = await _node.SubscribeAsync(CallerFor(presence), channel, since, listener: null, None);
        Assert.Null(result.Error);
        return result.Value;
    }

    /// <summary>A subscription in a feed whose shared queue is given by size.</summary>
    private async Task<SubscriptionFeed> SubscribeShared(string channel, int capacity, long maxBytes, StreamPosition? since = null)
    {
        var feed = _node.OpenFeed(capacity, maxBytes);
        Assert.Null(await _node.SubscribeAsync(Caller.Backend, channel, since, feed, None));
        return feed;
    }

    /// <summary>Everything the feed yields now, by kind.</summary>
    private static List<FeedItem> Drain(SubscriptionFeed feed)
    {
        var items = new List<FeedItem>();
        var buffer = new FeedItem[64];
        int count;
        while ((count = feed.Read(buffer, long.MaxValue)) > 0)
        {
            items.AddRange(buffer.Take(count));
        }

        return items;
    }

    /// <summary>The offsets of the publications the feed yields now (catch-up and live alike).</summary>
    private static List<ulong> Offsets(SubscriptionFeed feed) =>
        [.. Drain(feed).Where(static i => i.Kind == FeedItemKind.Publication).Select(static i => i.Publication.Offset)];

    /// <summary>The answer the feed yields first.</summary>
    private static SubscriptionStart StartOf(SubscriptionFeed feed) => feed.Start;

    private static List<ulong> Offsets(SubscriberQueue queue)
    {
        var offsets = new List<ulong>();
        while (queue.TryRead(out var message))
        {
            if (message is Publication p)
            {
                offsets.Add(p.Offset);
            }
        }

        return offsets;
    }

    [Fact]
    public async Task EverySubscriberGetsEveryPublicationAndSharesTheSameInstance()
    {
        var subscribers = new List<SubscriptionFeed>();
        for (int i = 0; i < 50; i++)
        {
            subscribers.Add(await Subscribe("chat:room"));
        }

        await Publish("chat:room", "1");
        await Publish("chat:room", "2");

        Publication? first = null;
        foreach (var subscription in subscribers)
        {
            StartOf(subscription);
            Assert.True(subscription.Queue.TryRead(out var m1));
            Assert.True(subscription.Queue.TryRead(out var m2));
            Assert.Equal(1ul, ((Publication)m1).Offset);
            Assert.Equal(2ul, ((Publication)m2).Offset);
            first ??= (Publication)m1;
            Assert.Same(first, m1);
        }

        Assert.Equal(50, _hub.SubscriptionCount);
        Assert.Equal(100, _hub.DeliveryCount);
    }

    [Fact]
    public async Task AnEpochChangeIsYieldedAsAnUnsolicitedSubscribed_InOrder_AndTheNewEpochHasNoLagged()
    {
        var channel = "chat:epoch-change";
        var feed = await Subscribe(channel);
        var shared = await SubscribeShared(channel, 16, 1 << 20);
        Drain(feed);
        Drain(shared);
        var old = (await Publish(channel)).Position;

        // What the Redis engine tells when Redis lost the channel's numbering, then the new life's first publication.
        var position = new StreamPosition("new-epoch", 4);
        _hub.OnEpochChanged(channel, position);
        _hub.OnPublication(new Publication(channel, "message", Encoding.UTF8.GetBytes("{}"), position with { Offset = 5 }, DateTimeOffset.UtcNow, null));

        foreach (var items in new[] { Drain(feed), Drain(shared) })
        {
            Assert.Equal([FeedItemKind.Publication, FeedItemKind.Subscribed, FeedItemKind.Publication], items.Select(i => i.Kind));
            Assert.Equal(old, items[0].Publication.Position);
            Assert.Equal(new SubscriptionStart(channel, position, Recovered: false), items[1].Start);
            Assert.Equal(5ul, items[2].Publication.Offset);
        }
    }

    [Fact]
    public async Task APrefixSubscriberIsToldOfAnEpochChangeOnceByTheChannelsName()
    {
        var feed = _node.OpenFeed(16, 1 << 20);
        Assert.Null(await _node.SubscribePrefixesAsync(["chat:epoch-*"], [], feed, None));
        Drain(feed);

        var position = new StreamPosition("new-epoch", 0);
        _hub.OnEpochChanged("chat:epoch-one", position);
        _hub.OnEpochChanged("chat:epoch-one", position);  // a second notice of the same change tells nothing new
        _hub.OnEpochChanged("room:other", position);

        var item = Assert.Single(Drain(feed));
        Assert.Equal(FeedItemKind.Subscribed, item.Kind);
        Assert.Equal(new SubscriptionStart("chat:epoch-one", position, Recovered: false), item.Start);
    }

    [Fact]
    public async Task PublicationsOfOtherChannelsAreNotDelivered()
    {
        var subscription = await Subscribe("chat:a");
        await Publish("chat:b");
        Assert.Empty(Offsets(subscription));
    }

    [Fact]
    public async Task SubscribingWithoutSinceStartsAtTheCurrentPosition()
    {
        await Publish("chat:room");
        await Publish("chat:room");
        var subscription = await Subscribe("chat:room");
        var result = StartOf(subscription);
        Assert.Equal(2ul, result.Position!.Value.Offset);
        Assert.False(result.Recovered);

        await Publish("chat:room");
        Assert.Equal([3ul], Offsets(subscription));
    }

    [Fact]
    public async Task ResumingReplaysWhatWasMissedThenGoesLive()
    {
        var from = (await Publish("chat:room")).Position;
        for (int i = 0; i < 4; i++)
        {
            await Publish("chat:room");
        }

        var subscription = await Subscribe("chat:room", from);
        var result = StartOf(subscription);
        Assert.True(result.Recovered);
        Assert.Equal(5ul, result.Position!.Value.Offset);

        await Publish("chat:room");  // published before the replay was read: yielded after it
        await Publish("chat:room");
        Assert.Equal([2ul, 3ul, 4ul, 5ul, 6ul, 7ul], Offsets(subscription));
    }

    [Fact]
    public async Task ResumingFromAPositionTooOldIsNotRecoveredAndStartsAtTheTop()
    {
        var from = (await Publish("small:room")).Position;  // keeps 3
        for (int i = 0; i < 5; i++)
        {
            await Publish("small:room");
        }

        var subscription = await Subscribe("small:room", from);
        var result = StartOf(subscription);
        Assert.False(result.Recovered);
        Assert.Equal(6ul, result.Position!.Value.Offset);
        Assert.Empty(Offsets(subscription));
    }

    [Fact]
    public async Task ResumingWhilePublishersRaceHasNoGapAndNoDuplicate()
    {
        const string channel = "long:race";  // history covers the whole race, so every resume is recoverable
        const int total = 3000;
        var start = (await Publish(channel)).Position;  // offset 1
        // The publisher starts with the first resubscribe, so at least one always races it (it could
        // otherwise finish all 3,000 before the loop below first looks).
        var firstSubscribe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var publisher = Task.Run(async () =>
        {
            await firstSubscribe.Task.WaitAsync(Timeout);
            for (int i = 1; i < total; i++)
            {
                await Publish(channel);
                if (i % 64 == 0)
                {
                    await Task.Yield();
                }
            }
        });

        // Resubscribe again and again from the start while the publisher runs: each subscriber must see
        // 2, 3, 4 … with no hole and no repeat, wherever the subscribe fell among the publishes.
        var feeds = new List<SubscriptionFeed>();
        do
        {
            firstSubscribe.TrySetResult();
            var feed = await SubscribeShared(channel, capacity: 100_000, maxBytes: long.MaxValue, since: start);
            Assert.True(feed.Start.Recovered);
            feeds.Add(feed);
            await Task.Yield();
        }
        while (!publisher.IsCompleted && feeds.Count < 200);

        await publisher.WaitAsync(Timeout);
        Assert.NotEmpty(feeds);
        foreach (var feed in feeds)
        {
            var offsets = Offsets(feed);
            Assert.Equal(Enumerable.Range(2, total - 1).Select(i => (ulong)i), offsets);
        }
    }

    [Fact]
    public async Task UnsubscribedQueuesGetNothingMore()
    {
        var subscription = await Subscribe("chat:room");
        await Publish("chat:room");
        StartOf(subscription);
        var queued = subscription.Queue.Count;
        await subscription.CloseAsync(reason: null);
        await subscription.CloseAsync(reason: null);  // twice is harmless
        await Publish("chat:room");
        Assert.Equal(1, queued);
        Assert.Equal([1ul], Offsets(subscription.Queue));
        Assert.Equal(0, _hub.SubscriptionCount);
        Assert.Equal(0, _hub.ChannelCount);
    }

    [Fact]
    public async Task PrefixSubscriptionsGetMatchingChannelsOnceEvenWhenAlsoSubscribedExactly()
    {
        var feed = await SubscribeShared("chat:lobby", 1000, 1 << 20);
        Assert.Null(await _node.SubscribePrefixesAsync(["chat:*", "cha*"], ["chat:lobby"], feed, None));
        var queue = feed.Queue;

        await Publish("chat:lobby");
        await Publish("chat:other");
        await Publish("small:x");
        var channels = new List<string>();
        while (queue.TryRead(out var message))
        {
            channels.Add(message.Channel);
        }

        Assert.Equal(["chat:lobby", "chat:other"], channels);

        await feed.CloseAsync(reason: null);
        await Publish("chat:other");
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public async Task PresenceEventsGoOnlyToSubscribersThatTakeThem()
    {
        var browser = await Subscribe("chat:room", presence: true);
        var backend = await Subscribe("chat:room", presence: false);
        Assert.True(browser.Queue.TryRead(out var own));  // the browser's own join comes first
        Assert.Equal("u", Assert.IsType<PresenceEvent>(own).UserId);
        await _hub.JoinAsync("chat:room", new ClientInfo("s9", "u9", "c9"), None);

        Assert.True(browser.Queue.TryRead(out var message));
        var join = Assert.IsType<PresenceEvent>(message);
        Assert.True(join.Joined);
        Assert.Equal("u9", join.UserId);
        Assert.False(backend.Queue.TryRead(out _));
    }

    [Fact]
    public async Task PresenceIsNotKeptWhereTheNamespaceTurnsItOff()
    {
        // Moved here from the engine specification: the engine knows no namespaces; the core joins a
        // subscriber only where its namespace keeps presence.
        await Subscribe("small:room", presence: true);
        Assert.Empty(await _hub.GetPresenceAsync("small:room", None));
    }

    [Fact]
    public async Task ASlowSubscriberLosesTheOldestAndTheGapShowsInItsOffsets()
    {
        var slow = await Subscribe("tiny:room");  // buffer of 4
        var fast = await Subscribe("chat:room");
        string epoch = (await Publish("tiny:room")).Position.Epoch;
        for (int i = 1; i < 10; i++)
        {
            await Publish("tiny:room");
        }

        Assert.Equal(6, slow.Queue.Dropped);
        var cursor = new DeliveryCursor(new StreamPosition(epoch, 0));
        Assert.True(slow.Queue.TryRead(out var first));
        Assert.True(cursor.TryAdvance((Publication)first, out var dropped));
        Assert.Equal(6ul, dropped);  // offsets 1..6 dropped: lagged names offset 6
        Assert.Equal(7ul, ((Publication)first).Offset);
        Assert.Equal(0, fast.Queue.Dropped);
    }

    [Fact]
    public async Task ManyPublishersAndSubscribersEachSubscriberSeesEveryOffsetInOrder()
    {
        const int channels = 8, subscribersPerChannel = 20, publishesPerChannel = 500;
        var subscriptions = new List<SubscriptionFeed>();
        for (int c = 0; c < channels; c++)
        {
            for (int s = 0; s < subscribersPerChannel; s++)
            {
                subscriptions.Add(await SubscribeShared($"chat:c{c}", 4096, long.MaxValue));
            }
        }

        // Consumers drain concurrently with the publishers, as connections would.
        var consumers = subscriptions.Select(s => Task.Run(async () =>
        {
            var offsets = new List<ulong>(publishesPerChannel);
            while (offsets.Count < publishesPerChannel && await s.Queue.WaitToReadAsync())
            {
                while (s.Queue.TryRead(out var m))
                {
                    offsets.Add(((Publication)m).Offset);
                }
            }

            return offsets;
        })).ToList();

        var publishers = Enumerable.Range(0, channels).SelectMany(c => Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < publishesPerChannel / 2; i++)
            {
                await Publish($"chat:c{c}");
            }
        }))).ToList();

        await Task.WhenAll(publishers).WaitAsync(Timeout);
        var results = await Task.WhenAll(consumers).WaitAsync(Timeout);
        foreach (var offsets in results)
        {
            Assert.Equal(Enumerable.Range(1, publishesPerChannel).Select(i => (ulong)i), offsets);
        }

        Assert.All(subscriptions, s => Assert.Equal(0, s.Queue.Dropped));
    }
}
