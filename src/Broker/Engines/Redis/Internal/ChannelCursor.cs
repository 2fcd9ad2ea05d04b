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

    /// <summary>
    /// Local hand-overs that came ahead of their turn, by offset, waiting a moment for the ones before
    /// them (which are usually a few microseconds behind on another thread) before history fills them.
    /// </summary>
    public SortedDictionary<ulong, byte[]>? Parked;

    /// <summary>True while a flush of <see cref="Parked"/> is scheduled.</summary>
    public bool FlushScheduled;
}
