using Broker.Engines;

namespace Broker.Core.Internal;

/// <summary>
/// A channel started a new epoch under its subscribers (the engine lost its numbering and history): queued
/// in order with the channel's publications, and yielded by the feed as an unsolicited <c>subscribed</c>
/// with <see cref="Position"/> and <c>recovered:false</c> (PROTOCOL.md, "Running several brokers").
/// Never encoded by a wire format: the feed turns it into a <see cref="FeedItemKind.Subscribed"/> item.
/// </summary>
internal sealed class EpochChange(string channel, StreamPosition position) : ChannelMessage(channel)
{
    /// <summary>Where live delivery continues.</summary>
    public StreamPosition Position { get; } = position;

    /// <inheritdoc/>
    public override int QueueBytes => FixedOverheadBytes + Channel.Length;
}
