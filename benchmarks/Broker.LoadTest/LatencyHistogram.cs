using System.Numerics;

namespace Broker.LoadTest;

/// <summary>
/// Latencies in microseconds, log-linear buckets (exact below 64 µs, then 32 per power of two: about 3 % error),
/// so recording is one increment and merging is a sum. One per connection: no sharing on the receive path.
/// </summary>
internal sealed class LatencyHistogram
{
    // 64 exact buckets, then 32 per octave for exponents 1..36 (2^42 µs is days: nothing real goes past it).
    private const int Buckets = 64 + 36 * 32;
    private readonly long[] _counts = new long[Buckets];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long micros)
    {
        if (micros < 0)
        {
            micros = 0;
        }

        _counts[Index(micros)]++;
        Count++;
        if (micros > Max)
        {
            Max = micros;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < Buckets; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1), as its bucket's midpoint, capped by the max seen.</summary>
    public long Quantile(double q)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = (long)Math.Ceiling(q * Count);
        long seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= rank && _counts[i] > 0)
            {
                return Math.Min(Value(i), Max);
            }
        }

        return Max;
    }

    private static int Index(long v)
    {
        if (v < 64)
        {
            return (int)v;
        }

        int e = 63 - BitOperations.LeadingZeroCount((ulong)v) - 5;  // v >> e is in [32, 63]
        int index = 64 + ((e - 1) * 32) + (int)((v >> e) - 32);
        return Math.Min(index, Buckets - 1);
    }

    private static long Value(int index)
    {
        if (index < 64)
        {
            return index;
        }

        int e = ((index - 64) / 32) + 1;
        long m = ((index - 64) % 32) + 32;
        return (m << e) + ((1L << e) / 2);
    }
}
