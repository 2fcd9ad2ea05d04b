using System.Globalization;

namespace Broker.Core;

/// <summary>
/// How the broker writes a time on its JSON surfaces (a publication's <c>time</c>, a ticket's
/// <c>expiresAt</c>): ISO 8601, UTC, milliseconds, <c>Z</c> — <c>2026-11-21T20:00:00.000Z</c>.
/// </summary>
public static class WireTime
{
    /// <summary>The format string.</summary>
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>Characters the formatted time takes.</summary>
    public const int Length = 24;

    /// <summary>Formats <paramref name="time"/> into <paramref name="destination"/> (at least <see cref="Length"/> chars), without allocating.</summary>
    public static int Write(DateTimeOffset time, Span<char> destination)
    {
        time.UtcDateTime.TryFormat(destination, out int written, Format, CultureInfo.InvariantCulture);
        return written;
    }

    /// <summary>Formats <paramref name="time"/> as a string.</summary>
    public static string ToText(DateTimeOffset time) => time.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);
}
