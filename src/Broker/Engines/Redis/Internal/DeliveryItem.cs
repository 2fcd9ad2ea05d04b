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

    /// <summary>Forget the cursors of channels idle for a while that nobody subscribed to by name.</summary>
    Sweep,
}

/// <summary>One entry of a shard's queue. A struct: a frame costs the queue no allocation of its own.</summary>
internal readonly record struct DeliveryItem(DeliveryKind Kind, string Channel, byte[]? Frame = null, StreamPosition Position = default);
