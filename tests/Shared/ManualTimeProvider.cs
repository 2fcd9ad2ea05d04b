namespace Broker.Testing;

/// <summary>
/// A clock that moves only when a test says so. Only <see cref="GetUtcNow"/> is frozen: timers and
/// timestamps still run on real time, which is all the session and ticket code reads.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private long _utcTicks;

    /// <summary>Starts at <paramref name="start"/>, or at the real current time.</summary>
    public ManualTimeProvider(DateTimeOffset? start = null) => _utcTicks = (start ?? DateTimeOffset.UtcNow).UtcTicks;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _utcTicks, by.Ticks);
    }
}
