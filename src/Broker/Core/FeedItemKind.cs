namespace Broker.Core;

/// <summary>What a <see cref="FeedItem"/> is.</summary>
public enum FeedItemKind
{
    /// <summary>
    /// A subscribe entry is live: <see cref="FeedItem.Start"/> (<c>subscribed</c>). Also yielded live, unsolicited,
    /// when a channel's history was lost: a new epoch, <c>recovered</c> false, no request id.
    /// </summary>
    Subscribed,

    /// <summary>A publication: <see cref="FeedItem.Publication"/>.</summary>
    Publication,

    /// <summary>
    /// Publications were dropped right before <see cref="FeedItem.Publication"/>, which comes as the next
    /// item: <see cref="FeedItem.Dropped"/> of them, the last at its offset minus one (<c>lagged</c>).
    /// </summary>
    Lagged,

    /// <summary>A <c>join</c> or <c>leave</c>: <see cref="FeedItem.Presence"/>.</summary>
    Presence,
}
