namespace Broker.Engines.Redis.Internal;

/// <summary>What a <see cref="DeliveryShard"/> does next, for one channel.</summary>
internal enum DeliveryKind : byte
{
    /// <summary>A pub/sub frame (publication or presence) arrived.</summary>
    Frame,

    /// <summary>The channel's position read just after the node subscribed: older offsets are not expected live.</summary>
    Baseline,

    /// <summary>Delivery may have missed messages (the link dropped or stalled): read history after the cursor.</summary>
    CatchUp,

    /// <summary>Nobody on this node listens any more: forget the cursor unless interest came back.</summary>
    Forget,

    /// <summary>Parked local frames waited long enough: fill what is still missing from history and deliver them.</summary>
    Flush,

    /// <summary>Forget the cursors of channels idle for a while that nobody subscribed to by name.</summary>
    Sweep,
}

/// <summary>One entry of a shard's queue. A struct: a frame costs the queue no allocation of its own.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Channel">The channel it is about.</param>
/// <param name="Frame">A frame's bytes.</param>
/// <param name="Position">A baseline's position.</param>
/// <param name="Local">
/// The frame was made by a publish on this node for a channel it does not subscribe to, handed over
/// without pub/sub; concurrent publishers hand them over in any order.
/// </param>
internal readonly record struct DeliveryItem(DeliveryKind Kind, string Channel, byte[]? Frame = null, StreamPosition Position = default, bool Local = false);
