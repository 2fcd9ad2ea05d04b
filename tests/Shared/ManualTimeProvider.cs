namespace Broker.Testing;

/// <summary>
/// A clock that moves only when a test says so. <see cref="GetUtcNow"/> and <see cref="GetTimestamp"/> move only
/// when told; timers still run on real time.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private long _utcTicks;

    /// <summary>Starts at <paramref name="start"/>, or at the real current time.</summary>
    public ManualTimeProvider(DateTimeOffset? start = null) => _utcTicks = (start ?? DateTimeOffset.UtcNow).UtcTicks;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    /// <summary>Timestamps follow the manual clock too, so elapsed-time logic (rate limits) moves only when the test says.</summary>
    public override long GetTimestamp() => Interlocked.Read(ref _utcTicks);

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _utcTicks, by.Ticks);
    }
}
