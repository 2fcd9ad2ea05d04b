namespace Broker.Sdk;

/// <summary>Where a publication landed.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Position">Its epoch and offset (for a repeated idempotency key: those of the first publication).</param>
public readonly record struct PublishResult(string Channel, StreamPosition Position)
{
    /// <summary>The publication's offset.</summary>
    public ulong Offset => Position.Offset;

    /// <summary>The channel's epoch.</summary>
    public string Epoch => Position.Epoch;
}
