using System.Text.Json;

namespace Broker.Core;

/// <summary>The check every transport makes on <c>data</c> it did not parse itself (PROTOCOL.md: "one JSON value").</summary>
public static class JsonValue
{
    /// <summary>
    /// True when <paramref name="utf8"/> is exactly one JSON value (object, array, string, number, true,
    /// false, null) in valid UTF-8. The reader alone lets invalid UTF-8 inside a string through (it checks
    /// string bytes only when a string is read), so the bytes are checked first: a vectorised pass.
    /// </summary>
    public static bool IsSingle(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || !System.Text.Unicode.Utf8.IsValid(utf8))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(utf8);
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
