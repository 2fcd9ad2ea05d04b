using Broker.Core;
using Broker.Engines;
namespace Broker.Core.Internal;

/// <summary>
/// A consumer's last seen position in one channel, from which it learns what its queue dropped: under
/// <see cref="OverflowPolicy.DropOldest"/> a channel's offsets reach a subscriber in order, so a jump
/// from <c>n</c> to <c>n + k + 1</c> means exactly <c>k</c> publications were dropped, the last being
/// <c>n + k</c> (what PROTOCOL.md's <c>lagged</c> names).
/// </summary>
internal struct DeliveryCursor
{
    /// <summary>Starts at the position the subscription began at.</summary>
    public DeliveryCursor(StreamPosition start)
    {
        Epoch = start.Epoch;
        Offset = start.Offset;
    }

    /// <summary>The epoch of the last seen position, or null before any.</summary>
    public string? Epoch { get; private set; }

    /// <summary>The offset of the last seen publication.</summary>
    public ulong Offset { get; private set; }

    /// <summary>
    /// Moves past <paramref name="publication"/>. False when it was already seen (the consumer skips it);
    /// otherwise <paramref name="dropped"/> is how many publications were dropped right before it (0 when
    /// none, or when the epoch changed: a new life of the channel has no gap to report).
    /// </summary>
    public bool TryAdvance(Publication publication, out ulong dropped)
    {
        ArgumentNullException.ThrowIfNull(publication);
        dropped = 0;
        if (string.Equals(Epoch, publication.Epoch, StringComparison.Ordinal))
        {
            if (publication.Offset <= Offset)
            {
                return false;
            }

            dropped = publication.Offset - Offset - 1;
        }

        Epoch = publication.Epoch;
        Offset = publication.Offset;
        return true;
    }
}
