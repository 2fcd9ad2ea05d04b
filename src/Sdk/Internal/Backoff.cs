namespace Broker.Sdk.Internal;

/// <summary>Reconnect delays: exponential from a minimum to a maximum, with "equal jitter" (half fixed, half random).</summary>
internal static class Backoff
{
    /// <summary>The delay before attempt <paramref name="attempt"/> (0 for the first retry).</summary>
    public static TimeSpan Delay(int attempt, TimeSpan min, TimeSpan max)
    {
        // 2^attempt overflows past ~62; anything past 30 doublings is above any sane max anyway.
        var exponent = Math.Min(attempt, 30);
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, exponent));
        // Half fixed so the delay still grows; half random so many clients cut off together (a broker restart)
        // do not come back in lock-step.
        var half = ceiling / 2;
        return TimeSpan.FromMilliseconds(half + (Random.Shared.NextDouble() * half));
    }
}
