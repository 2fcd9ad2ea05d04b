using Broker.Engines.InMemory;
namespace Broker.Engines.InMemory.Internal;

/// <summary>
/// One channel's state in the in-memory engine. Every field is guarded by locking the instance; a
/// channel that <see cref="Removed"/> marks is gone from the engine's table and must be looked up again.
/// </summary>
internal sealed class MemoryChannel(string name, string epoch)
{
    public readonly string Name = name;
    public readonly string Epoch = epoch;
    public ulong Offset;

    /// <summary>Made by the first publish that asks for history; its size follows the latest publish's options.</summary>
    public HistoryRing? History;

    /// <summary>How long the channel may sit idle before it is forgotten: the latest publish's <c>HistoryTtl</c>.</summary>
    public TimeSpan IdleTtl = HistoryOptions.None.Ttl;
    public IdempotencyKeys? Keys;
    public PresenceSet? Presence;
    public int Interest;
    public bool Removed;
    public DateTimeOffset LastUsed;

    public StreamPosition Position => new(Epoch, Offset);

    /// <summary>True when forgetting the channel loses nothing anyone relies on (see <see cref="InMemoryEngine"/>).</summary>
    public bool IsIdle(DateTimeOffset now) =>
        Interest == 0
        && (Presence?.IsEmpty ?? true)
        && (Keys?.Count ?? 0) == 0
        && (History?.Count ?? 0) == 0
        && now - LastUsed >= IdleTtl;
}
