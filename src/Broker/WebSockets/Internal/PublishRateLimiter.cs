using Broker.WebSockets;
namespace Broker.WebSockets.Internal;

/// <summary>
/// A connection's token bucket for <c>publish</c> and <c>send</c> (PROTOCOL.md): it starts full with
/// twice the rate and refills at the rate per second. It also measures abuse: how long the connection
/// has been refused "in a row", where the row is broken only by a full second with no refusal (a
/// flooding client gets a token through now and then as the bucket refills, and that must not reset
/// it). Used only from the connection's reader loop: not thread-safe.
/// </summary>
internal sealed class PublishRateLimiter(int perSecond, TimeProvider time)
{
    /// <summary>A second without a refusal ends a streak of refusals.</summary>
    private static readonly TimeSpan StreakGap = TimeSpan.FromSeconds(1);

    private readonly double _capacity = 2.0 * perSecond;
    private double _tokens = 2.0 * perSecond;
    private long _lastRefill = time.GetTimestamp();
    private long _streakStart = -1;
    private long _lastRefusal;

    /// <summary>Takes a token; false when the bucket is empty.</summary>
    public bool TryTake()
    {
        long now = time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (time.GetElapsedTime(_lastRefill, now).TotalSeconds * perSecond));
        _lastRefill = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return true;
        }

        if (_streakStart < 0 || time.GetElapsedTime(_lastRefusal, now) > StreakGap)
        {
            _streakStart = now;
        }

        _lastRefusal = now;
        return false;
    }

    /// <summary>How long the current streak of refusals has lasted; zero when there is none.</summary>
    public TimeSpan RefusingFor
    {
        get
        {
            long now = time.GetTimestamp();
            return _streakStart < 0 || time.GetElapsedTime(_lastRefusal, now) > StreakGap ? TimeSpan.Zero : time.GetElapsedTime(_streakStart, now);
        }
    }
}
