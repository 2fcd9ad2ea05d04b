namespace Broker.Diagnostics;

/// <summary>
/// Lets one log message of a cause through per interval and counts the rest, so a flood of refusals (ticket
/// guessing, a connection flood) is logged once per cause and interval with how many were left out, not once per
/// attempt: the log must not become the attacker's amplifier.
/// </summary>
/// <remarks>Thread-safe and allocation-free: two interlocked operations per call.</remarks>
public sealed class LogGate
{
    private readonly TimeProvider _time;
    private readonly long _intervalTicks;
    private long _nextUtcTicks;
    private long _held;

    /// <summary>Creates a gate that opens at most once per <paramref name="interval"/>.</summary>
    public LogGate(TimeProvider time, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _intervalTicks = interval.Ticks;
    }

    /// <summary>
    /// Counts one event; <see langword="true"/> when this one should be logged, with <paramref name="count"/> the
    /// events since the last logged one (this one included).
    /// </summary>
    public bool TryPass(out long count)
    {
        Interlocked.Increment(ref _held);
        long now = _time.GetUtcNow().UtcTicks;
        long due = Interlocked.Read(ref _nextUtcTicks);
        // Only the caller that moves the deadline logs: racing events never log twice.
        if (now >= due && Interlocked.CompareExchange(ref _nextUtcTicks, now + _intervalTicks, due) == due)
        {
            count = Interlocked.Exchange(ref _held, 0);
            return true;
        }

        count = 0;
        return false;
    }
}
