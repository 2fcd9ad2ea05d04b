using System.Text.Encodings.Web;

namespace Broker.Core;

/// <summary>
/// The string escaping of every JSON text the broker writes (WebSocket frames, HTTP replies, stats): what
/// JSON needs (quote, backslash, control characters, U+2028/U+2029) and the three characters that let
/// JSON pasted into an HTML <c>&lt;script&gt;</c> end it or open markup (<c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>);
/// nothing else, so a message reads <c>'channel' is required</c>, not <c>\u0027channel\u0027 is required</c>,
/// and non-ASCII text travels as UTF-8.
/// </summary>
/// <remarks>
/// Hand-written because the framework offers only the two ends: <see cref="JavaScriptEncoder.Default"/>
/// (and every <see cref="JavaScriptEncoder.Create(System.Text.Encodings.Web.TextEncoderSettings)"/>)
/// always escapes <c>'</c>, <c>+</c> and <c>`</c> as well as all non-ASCII text, and
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> leaves <c>&lt;</c> <c>&gt;</c> <c>&amp;</c> plain.
/// This one is the relaxed encoder plus those three.
/// </remarks>
public sealed class WireJsonEncoder : JavaScriptEncoder
{
    /// <summary>The one instance; the encoder keeps no state.</summary>
    public static readonly WireJsonEncoder Instance = new();

    private static readonly JavaScriptEncoder Relaxed = UnsafeRelaxedJsonEscaping;

    private WireJsonEncoder()
    {
    }

    /// <inheritdoc/>
    public override int MaxOutputCharactersPerInputCharacter => Math.Max(Relaxed.MaxOutputCharactersPerInputCharacter, 6);

    /// <inheritdoc/>
    public override bool WillEncode(int unicodeScalar) => IsHtmlSensitive(unicodeScalar) || Relaxed.WillEncode(unicodeScalar);

    /// <inheritdoc/>
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        int relaxed = Relaxed.FindFirstCharacterToEncode(text, textLength);
        int ours = new ReadOnlySpan<char>(text, textLength).IndexOfAny('<', '>', '&');
        return Earliest(relaxed, ours);
    }

    /// <inheritdoc/>
    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        // Both scans are vectorised; the three ASCII bytes cannot occur inside a multi-byte UTF-8 sequence.
        int relaxed = Relaxed.FindFirstCharacterToEncodeUtf8(utf8Text);
        int ours = utf8Text.IndexOfAny((byte)'<', (byte)'>', (byte)'&');
        return Earliest(relaxed, ours);
    }

    /// <inheritdoc/>
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        if (!IsHtmlSensitive(unicodeScalar))
        {
            return Relaxed.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);
        }

        // \u003C, \u003E, \u0026: the spelling JavaScriptEncoder.Default uses, so the output matches it there.
        if (bufferLength < 6)
        {
            numberOfCharactersWritten = 0;
            return false;
        }

        var output = new Span<char>(buffer, 6);
        "\\u00".CopyTo(output);
        output[4] = HexDigit(unicodeScalar >> 4);
        output[5] = HexDigit(unicodeScalar & 0xF);
        numberOfCharactersWritten = 6;
        return true;
    }

    private static bool IsHtmlSensitive(int scalar) => scalar is '<' or '>' or '&';

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'A' + value - 10);

    private static int Earliest(int a, int b) => a < 0 ? b : b < 0 ? a : Math.Min(a, b);
}
