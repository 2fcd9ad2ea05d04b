using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// One thing a <see cref="SubscriptionFeed"/> yields for its transport to encode and write. A struct
/// read into a caller's span: yielding costs no allocation.
/// </summary>
public readonly struct FeedItem
{
    private readonly object? _item;

    private FeedItem(FeedItemKind kind, object? item, ulong dropped)
    {
        Kind = kind;
        _item = item;
        Dropped = dropped;
    }

    /// <summary>What the item is.</summary>
    public FeedItemKind Kind { get; }

    /// <summary>The subscribe answer of a <see cref="FeedItemKind.Subscribed"/> item.</summary>
    public SubscriptionStart Start => (SubscriptionStart)_item!;

    /// <summary>The publication of a <see cref="FeedItemKind.Publication"/> item, or the one right after the gap of a <see cref="FeedItemKind.Lagged"/> item.</summary>
    public Publication Publication => (Publication)_item!;

    /// <summary>The <c>join</c>/<c>leave</c> of a <see cref="FeedItemKind.Presence"/> item.</summary>
    public PresenceEvent Presence => (PresenceEvent)_item!;

    /// <summary>A <see cref="FeedItemKind.Lagged"/> item's count of dropped publications.</summary>
    public ulong Dropped { get; }

    /// <summary>The message itself, whatever its kind (null for <see cref="FeedItemKind.Subscribed"/>).</summary>
    // Unsafe.As, not a cast: the kind already says what the item holds, and this is read once per delivery.
    public ChannelMessage? Message => Kind == FeedItemKind.Subscribed ? null : System.Runtime.CompilerServices.Unsafe.As<ChannelMessage>(_item);

    internal static FeedItem Subscribed(SubscriptionStart start) => new(FeedItemKind.Subscribed, start, 0);

    internal static FeedItem Of(Publication publication) => new(FeedItemKind.Publication, publication, 0);

    internal static FeedItem Lagged(Publication next, ulong dropped) => new(FeedItemKind.Lagged, next, dropped);

    internal static FeedItem Of(PresenceEvent presence) => new(FeedItemKind.Presence, presence, 0);
}
