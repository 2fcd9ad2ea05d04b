namespace Broker.Sdk;

/// <summary>A channel entry of a subscription is live (the broker's <c>Subscribed</c>).</summary>
/// <param name="Channel">The entry: an exact channel, or a prefix such as <c>chat:*</c>.</param>
/// <param name="Position">The channel's current position; null for a prefix entry.</param>
/// <param name="Recovered">True when the publications since the requested position are replayed next, with no gap; always false for a prefix entry and for an entry with no position.</param>
/// <param name="Resubscribed">True when this came after a reconnect (the SDK asked to resume from the last publication it gave you).</param>
public sealed record ChannelSubscribed(string Channel, StreamPosition? Position, bool Recovered, bool Resubscribed)
{
    /// <summary>
    /// True when publications may have been lost on this entry: a reconnect that could not recover an exact channel,
    /// or any reconnect of a prefix entry (prefixes resubscribe without position).
    /// </summary>
    public bool MayHaveLostPublications => Resubscribed && !Recovered;
}
