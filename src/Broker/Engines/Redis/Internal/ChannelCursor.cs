namespace Broker.Engines.Redis.Internal;

/// <summary>
/// Where this node's delivery of one channel stands: the last position handed to the handler. Touched
/// only by the channel's <see cref="DeliveryShard"/> loop, so it needs no lock.
/// </summary>
internal sealed class ChannelCursor
{
    /// <summary>The epoch of <see cref="Offset"/>, or null before the first message or baseline.</summary>
    public string? Epoch;

    /// <summary>The newest offset delivered (or known to be older than what the core read).</summary>
    public ulong Offset;

    /// <summary>When the channel last had a message, from <see cref="Environment.TickCount64"/>: idle cursors of pattern channels are swept.</summary>
    public long LastUsedMs;
}
