using System.Globalization;

namespace Broker.GrpcTransport;

/// <summary>
/// The <c>grpc-timeout</c> header (PROTOCOL-HTTP2.md): 1 to 8 ASCII digits followed by a unit,
/// H (hours), M (minutes), S (seconds), m (milliseconds), u (microseconds) or n (nanoseconds).
/// </summary>
public static class GrpcTimeout
{
    // The spec caps the value at 8 digits.
    private const int MaxDigits = 8;
    private const long MaxValue = 99_999_999;

    /// <summary>Parses a header value; false when it is not valid (the call then has no deadline).</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }

        var digits = value[..^1];
        long amount = 0;
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        // 99,999,999 hours is about 11,400 years and fits in a TimeSpan (about 29,000 years), so no overflow.
        timeout = value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * TimeSpan.TicksPerMicrosecond),
            // A tick is 100 ns: round up so a tiny positive timeout does not become zero.
            'n' => TimeSpan.FromTicks((amount + 99) / 100),
            _ => TimeSpan.MinValue,
        };
        return timeout != TimeSpan.MinValue;
    }

    /// <summary>
    /// Formats a positive timeout in the finest unit whose value fits in 8 digits, rounding up so the peer
    /// never sees a shorter timeout than ours.
    /// </summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            // The spec has no zero or negative value; 1 ns is the shortest one, expiring at once.
            return "1n";
        }

        var ticks = timeout.Ticks;
        // Nanoseconds: 100 per tick; 99,999,999 ns fits when ticks <= 999,999.
        if (ticks <= MaxValue / 100)
        {
            return Build(ticks * 100, 'n');
        }

        if (TryUnit(ticks, TimeSpan.TicksPerMicrosecond, 'u', out var s)
            || TryUnit(ticks, TimeSpan.TicksPerMillisecond, 'm', out s)
            || TryUnit(ticks, TimeSpan.TicksPerSecond, 'S', out s)
            || TryUnit(ticks, TimeSpan.TicksPerMinute, 'M', out s))
        {
            return s;
        }

        var hours = CeilDiv(ticks, TimeSpan.TicksPerHour);
        return Build(Math.Min(hours, MaxValue), 'H');
    }

    private static bool TryUnit(long ticks, long ticksPerUnit, char unit, out string value)
    {
        var amount = CeilDiv(ticks, ticksPerUnit);
        value = amount <= MaxValue ? Build(amount, unit) : string.Empty;
        return amount <= MaxValue;
    }

    private static long CeilDiv(long a, long b) => (a / b) + (a % b == 0 ? 0 : 1);

    private static string Build(long amount, char unit) => string.Create(CultureInfo.InvariantCulture, $"{amount}{unit}");
}
