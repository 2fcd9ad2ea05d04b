using System.Buffers;
using System.Text;

namespace Broker.GrpcTransport;

/// <summary>
/// The percent-encoding of <c>grpc-message</c> (PROTOCOL-HTTP2.md): the UTF-8 bytes of the text, each byte
/// outside the printable ASCII range 0x20-0x7E, and '%' itself, written as <c>%XX</c> (upper-case hex).
/// Decoding is lenient: a '%' not followed by two hex digits is kept as it is, as the spec asks.
/// </summary>
public static class PercentEncoding
{
    // Above this, rent instead of stackalloc: a status detail is normally a short sentence.
    private const int StackLimit = 256;

    /// <summary>Encodes a status detail for the <c>grpc-message</c> header.</summary>
    public static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!NeedsEncoding(value))
        {
            // The common case (plain ASCII text) goes on the wire unchanged, without allocating.
            return value;
        }

        var byteCount = Encoding.UTF8.GetByteCount(value);
        byte[]? rented = null;
        var bytes = byteCount <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(byteCount));
        try
        {
            var written = Encoding.UTF8.GetBytes(value, bytes);
            var builder = new StringBuilder(written * 3);
            for (var i = 0; i < written; i++)
            {
                var b = bytes[i];
                if (IsUnreserved(b))
                {
                    builder.Append((char)b);
                }
                else
                {
                    builder.Append('%').Append(HexUpper[b >> 4]).Append(HexUpper[b & 0xF]);
                }
            }

            return builder.ToString();
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Decodes a <c>grpc-message</c> header value; invalid escapes are kept literally.</summary>
    public static string Decode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        // Every char of a header value is one byte (HTTP field values are octets), and decoding only shrinks.
        byte[]? rented = null;
        var bytes = value.Length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(value.Length));
        try
        {
            var n = 0;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c == '%' && i + 2 < value.Length && TryHex(value[i + 1], out var hi) && TryHex(value[i + 2], out var lo))
                {
                    bytes[n++] = (byte)((hi << 4) | lo);
                    i += 2;
                }
                else
                {
                    bytes[n++] = (byte)c;
                }
            }

            // Invalid UTF-8 becomes U+FFFD rather than failing the call that carried it.
            return Encoding.UTF8.GetString(bytes[..n]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool NeedsEncoding(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or '%')
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUnreserved(byte b) => b is >= 0x20 and <= 0x7E && b != (byte)'%';

    private static bool TryHex(char c, out int value)
    {
        value = c switch
        {
            >= '0' and <= '9' => c - '0',
            >= 'a' and <= 'f' => c - 'a' + 10,
            >= 'A' and <= 'F' => c - 'A' + 10,
            _ => -1,
        };
        return value >= 0;
    }

    private const string HexUpper = "0123456789ABCDEF";
}
