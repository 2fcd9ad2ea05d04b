namespace Broker.Sdk;

/// <summary>A channel entry of a subscription is live (the broker's <c>Subscribed</c>).</summary>
/// <param name="Channel">The entry: an exact channel, or a prefix such as <c>chat:*</c>.</param>
/// <param name="Position">The channel's current position; null for a prefix entry.</param>
/// <param name="Recovered">True when the publications since the requested position are replayed next, with no gap; always false for a prefix entry and for an entry with no position.</param>
/// <param name="Resubscribed">True when this came after a reconnect (the SDK asked to resume from the last publication it gave you).</param>
public sealed record ChannelSubscribed(string Channel, StreamPosition? Position, bool Recovered, bool Resubscribed)
{
    /// <summary>
    /// True when the broker sent this unasked on a live stream: the channel's history was lost in the cluster's
    /// Redis and its numbering started a new epoch (PROTOCOL.md, "Running several brokers"). <see cref="Channel"/> is
    /// then the channel itself, also under a prefix entry, and <see cref="Position"/> the new epoch's.
    /// </summary>
    public bool EpochChanged { get; init; }

    /// <summary>
    /// True when publications may have been lost on this entry: a reconnect that could not recover an exact channel,
    /// any reconnect of a prefix entry (prefixes resubscribe without position), or a new epoch on a live stream.
    /// </summary>
    public bool MayHaveLostPublications => (Resubscribed || EpochChanged) && !Recovered;
}
