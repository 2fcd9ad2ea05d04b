using System.Runtime.InteropServices;
using Broker.Core.Internal;
using Broker.Diagnostics;
using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// One subscriber's read side: the subscriptions that share one <see cref="SubscriberQueue"/> (a browser
/// socket has a feed per channel; a gRPC <c>Subscribe</c> stream one feed for all its entries), read in
/// the order PROTOCOL.md promises. <see cref="Read"/> yields, for each subscription in the order it was
/// added, its <see cref="FeedItemKind.Subscribed"/> answer and then its catch-up; after every start, what
/// the queue holds: publications in offset order per channel, <see cref="FeedItemKind.Lagged"/> right
/// before the first publication after a drop, presence events, and an unsolicited
/// <see cref="FeedItemKind.Subscribed"/> when a channel's history was lost (a new epoch). A transport
/// only encodes and writes.
/// </summary>
/// <remarks>
/// <para><b>Lagged.</b> Under <see cref="OverflowPolicy.DropOldest"/> a channel's offsets reach the feed
/// in order, so a jump from <c>n</c> to <c>n + k + 1</c> means exactly <c>k</c> publications were dropped
/// (see <see cref="DeliveryCursor"/>): derived here, at the one consumer, it needs no state shared with
/// publishers and can never be reordered against the publications.</para>
/// <para><b>Threads.</b> Subscriptions are added by the feed's creator before anyone reads it; then one
/// consumer reads. The creator may read the starts itself before it hands the feed to its consumer (a
/// socket's reader writes each <c>subscribed</c> and its replay among its replies); whatever publishes
/// that hand-over (a lock) makes the cursors visible to the consumer.</para>
/// </remarks>
public sealed class SubscriptionFeed
{
    /// <summary>
    /// Messages taken from the queue under one lock: 32 is a batch's worth of typical frames (32 × ~200 B
    /// fills a good part of a WebSocket batch) while keeping the stack buffer small.
    /// </summary>
    private const int TakeBatch = 32;

    private readonly Hub _hub;
    private readonly IEngine _engine;
    private readonly BrokerMetrics? _metrics;
    // Every answer the feed yields, in order, with its subscription (none for a prefix entry's answer). One list
    // of pairs, not a list of each: a browser's feed holds one entry, and each list with its array costs 64 bytes.
    private readonly List<Entry> _entries = new(1);
    private PrefixSubscription? _prefix;
    private int _nextStart;
    private int _nextCatchUp;
    private bool _startYielded;
    private bool _closed;

    // A feed of one exact channel (every browser subscription) keeps its cursor in a field: no lookup per
    // message. A feed of several channels, or with a prefix, keeps one per channel.
    private DeliveryCursor _cursor;
    private Dictionary<string, DeliveryCursor>? _cursors;

    internal SubscriptionFeed(Hub hub, SubscriberQueue queue, BrokerMetrics? metrics)
    {
        _hub = hub;
        _engine = hub.Engine;
        Queue = queue;
        _metrics = metrics;
    }

    /// <summary>The queue every subscription of the feed fills.</summary>
    public SubscriberQueue Queue { get; }

    /// <summary>The feed's first (for a browser socket's feed, its only) subscription's channel.</summary>
    public string Channel => _entries[0].Start.Channel;

    /// <summary>The first subscription's answer: for a browser, its <c>subscribed</c> (or, for a personal channel, its <c>welcome</c> entry).</summary>
    public SubscriptionStart Start => _entries[0].Start;

    /// <summary>True once every subscription's answer and catch-up were read: what follows is live.</summary>
    public bool Started => _nextStart == _entries.Count;

    /// <summary>
    /// Reads what is next into <paramref name="items"/>: while <see cref="Started"/> is false only start
    /// items (answers and catch-up, unbounded by <paramref name="maxBytes"/>, which history bounds), then
    /// live items worth at most <paramref name="maxBytes"/> of queue charge (at least one message).
    /// Returns how many; 0 when nothing is waiting. Only the consumer calls this.
    /// </summary>
    public int Read(Span<FeedItem> items, long maxBytes)
    {
        if (items.Length < 2)
        {
            throw new ArgumentException("A feed reads into at least two items (a lagged and its publication).", nameof(items));
        }

        return Started ? ReadLive(items, maxBytes) : ReadStart(items);
    }

    /// <summary>
    /// Ends the feed: its subscriptions leave the hub (and the channel's presence), and what is still
    /// queued is counted as dropped for <paramref name="reason"/>, or, with none (an unsubscribe: the
    /// subscriber no longer wants it), simply let go. Safe to call twice.
    /// </summary>
    public async ValueTask CloseAsync(DropReason? reason)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        foreach (var (_, subscription) in _entries)
        {
            if (subscription is not null)
            {
                await _hub.UnsubscribeAsync(subscription, CancellationToken.None);
            }
        }

        if (_prefix is { } prefix)
        {
            await _hub.RemovePrefixAsync(prefix, CancellationToken.None);
        }

        if (reason is { } dropReason)
        {
            Queue.DiscardPending(dropReason);
        }
        else
        {
            Queue.Complete();
        }

        foreach (var (_, subscription) in _entries)
        {
            if (subscription is { ReceivesPresence: true })
            {
                try
                {
                    await _engine.LeaveAsync(subscription.Channel, subscription.Client!, CancellationToken.None);
                }
                catch (EngineUnavailableException)
                {
                    // A close must finish whatever the engine's state. (The Redis engine never throws here: it
                    // keeps the leave and applies it when Redis is back.)
                }
            }
        }
    }

    /// <summary>Adds a live subscription of this feed's queue; its answer and catch-up come after those added before.</summary>
    internal void Add(Subscription subscription)
    {
        _entries.Add(new Entry(subscription.Start, subscription));
        // A second channel (or a prefix, which made the map already): cursors by channel from now on.
        if (_entries.Count == 2)
        {
            _cursors ??= new Dictionary<string, DeliveryCursor>(StringComparer.Ordinal);
        }
    }

    /// <summary>Adds prefix entries (live already): each gets an answer with no position, in entry order.</summary>
    internal void AddPrefix(PrefixSubscription prefix, string entry)
    {
        _prefix ??= prefix;
        _cursors ??= new Dictionary<string, DeliveryCursor>(StringComparer.Ordinal);
        _entries.Add(new Entry(new SubscriptionStart(entry, null, false), null));
    }

    private int ReadStart(Span<FeedItem> items)
    {
        int written = 0;
        while (written < items.Length && _nextStart < _entries.Count)
        {
            var (start, subscription) = _entries[_nextStart];
            if (!_startYielded)
            {
                items[written++] = FeedItem.Subscribed(start);
                _startYielded = true;
                if (subscription is not null)
                {
                    CursorOf(subscription.Channel) = new DeliveryCursor(subscription.CursorStart);
                }
            }

            var catchUp = subscription?.CatchUp ?? [];
            while (written < items.Length && _nextCatchUp < catchUp.Count)
            {
                var publication = catchUp[_nextCatchUp++];
                CursorOf(publication.Channel).TryAdvance(publication, out _);
                items[written++] = FeedItem.Of(publication);
            }

            if (_nextCatchUp < catchUp.Count)
            {
                break;  // items is full: the rest of this replay next time
            }

            subscription?.ReleaseCatchUp();
            _nextStart++;
            _nextCatchUp = 0;
            _startYielded = false;
        }

        return written;
    }

    private int ReadLive(Span<FeedItem> items, long maxBytes)
    {
        var taken = new TakenMessages();
        // A message may become two items (lagged, then itself): take at most half the room.
        Span<ChannelMessage?> messages = ((Span<ChannelMessage?>)taken)[..Math.Min(TakeBatch, items.Length / 2)];
        int written = 0;
        // Loop while everything taken was a duplicate: returning 0 with messages still queued would leave
        // them there until the next publication woke the consumer.
        while (written == 0)
        {
            int count = Queue.TryReadMany(messages, maxBytes);
            if (count == 0)
            {
                break;
            }

            for (int i = 0; i < count; i++)
            {
                var message = messages[i]!;
                messages[i] = null;  // the stack buffer must not keep a delivered publication alive
                if (message is Publication publication)
                {
                    if (!CursorOf(publication).TryAdvance(publication, out ulong dropped))
                    {
                        continue;  // already delivered (a catch-up that overlapped the live queue)
                    }

                    if (dropped > 0)
                    {
                        _metrics?.RecordLagged();
                        items[written++] = FeedItem.Lagged(publication, dropped);
                    }

                    items[written++] = FeedItem.Of(publication);
                }
                else if (message is PresenceEvent presence)
                {
                    items[written++] = FeedItem.Of(presence);
                }
                else if (message is EpochChange change)
                {
                    // The channel's history is gone: the subscriber starts again at the new position, told
                    // with an unsolicited `subscribed` (recovered:false), and its cursor follows.
                    ref var cursor = ref CursorOf(change.Channel);
                    if (string.Equals(cursor.Epoch, change.Position.Epoch, StringComparison.Ordinal) && cursor.Offset >= change.Position.Offset)
                    {
                        continue;  // already in the new epoch (told once, or the subscribe started in it)
                    }

                    cursor = new DeliveryCursor(change.Position);
                    items[written++] = FeedItem.Subscribed(new SubscriptionStart(change.Channel, change.Position, Recovered: false));
                }
            }
        }

        return written;
    }

    /// <summary>The cursor of a publication's channel; a channel first seen through a prefix starts right before it.</summary>
    private ref DeliveryCursor CursorOf(Publication publication)
    {
        if (_cursors is null)
        {
            return ref _cursor;
        }

        ref var cursor = ref CollectionsMarshal.GetValueRefOrAddDefault(_cursors, publication.Channel, out bool existed);
        if (!existed)
        {
            cursor = new DeliveryCursor(new StreamPosition(publication.Epoch, publication.Offset - 1));
        }

        return ref cursor;
    }

    private ref DeliveryCursor CursorOf(string channel) =>
        ref _cursors is null ? ref _cursor : ref CollectionsMarshal.GetValueRefOrAddDefault(_cursors, channel, out _);

    /// <summary>One answer the feed yields, and the subscription it answers (null for a prefix entry).</summary>
    private readonly record struct Entry(SubscriptionStart Start, Subscription? Subscription);

    [System.Runtime.CompilerServices.InlineArray(TakeBatch)]
    private struct TakenMessages
    {
        private ChannelMessage? _first;
    }
}
