using System.Buffers.Binary;
using System.Text;

namespace Broker.Engines.Redis.Internal;

/// <summary>
/// The publication's bytes between nodes (docs/cluster.md, "Wire format"). The node that publishes
/// encodes the <b>body</b> once; the publish script stores it in the stream and wraps it in a pub/sub
/// <b>frame</b> with the offset and epoch that only the script knows.
/// </summary>
/// <remarks>
/// <para>Frame (one pub/sub message): one ASCII kind byte — <c>P</c> publication, <c>J</c> join,
/// <c>L</c> leave — then the offset in decimal, a space, the epoch (<c>.</c> when the channel has
/// none yet), a space, and the payload: a body for <c>P</c>, the user id (UTF-8) for <c>J</c>/<c>L</c>.
/// For presence the offset and epoch are the channel's position when the member came or went, so a
/// receiver delivers the publications up to it first.</para>
/// <para>Body: version byte <c>1</c>; time as the UTC ticks of a <see cref="DateTimeOffset"/>, int64
/// little-endian (ticks, not ms, so a time round-trips exactly); event: length byte + ASCII; sender: a
/// flags byte (0 none; else 1 | 2 session | 4 user | 8 connection) then each present field as a uint16
/// little-endian byte length + UTF-8; then the data, the rest of the body, as sent (UTF-8 JSON).</para>
/// The channel is not in the body: the pub/sub channel and the stream's key name it.
/// </remarks>
internal static class PublicationCodec
{
    public const byte Version = 1;
    public const byte KindPublication = (byte)'P';
    public const byte KindJoin = (byte)'J';
    public const byte KindLeave = (byte)'L';

    /// <summary>The epoch written in a presence frame of a channel that has no numbering yet.</summary>
    public const string NoEpoch = ".";

    private const byte HasFrom = 1, HasSession = 2, HasUser = 4, HasConnection = 8;

    public static byte[] EncodeBody(in PublishCommand command, DateTimeOffset time)
    {
        var from = command.From;
        int eventBytes = Encoding.UTF8.GetByteCount(command.Event);
        if (eventBytes > byte.MaxValue)
        {
            throw new ArgumentException("An event name is at most 255 bytes.", nameof(command));
        }

        int length = 1 + 8 + 1 + eventBytes + 1 + command.Data.Length;
        if (from is not null)
        {
            length += FieldLength(from.SessionId) + FieldLength(from.UserId) + FieldLength(from.ConnectionId);
        }

        var body = new byte[length];
        var span = body.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], time.UtcTicks);
        span[9] = (byte)eventBytes;
        int at = 10 + Encoding.UTF8.GetBytes(command.Event, span[10..]);
        if (from is null)
        {
            span[at++] = 0;
        }
        else
        {
            span[at++] = (byte)(HasFrom | (from.SessionId is null ? 0 : HasSession) | (from.UserId is null ? 0 : HasUser) | (from.ConnectionId is null ? 0 : HasConnection));
            at = WriteField(span, at, from.SessionId);
            at = WriteField(span, at, from.UserId);
            at = WriteField(span, at, from.ConnectionId);
        }

        command.Data.Span.CopyTo(span[at..]);
        return body;
    }

    /// <summary>Makes the publication a body describes. <paramref name="body"/> is not copied: the data points into it.</summary>
    public static Publication DecodeBody(string channel, StreamPosition position, ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        if (span.Length < 11 || span[0] != Version)
        {
            throw new FormatException($"Not a version {Version} publication body ({span.Length} bytes).");
        }

        var time = new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(span[1..]), TimeSpan.Zero);
        int eventLength = span[9];
        var @event = Encoding.UTF8.GetString(span.Slice(10, eventLength));
        int at = 10 + eventLength;
        byte flags = span[at++];
        ClientInfo? from = null;
        if ((flags & HasFrom) != 0)
        {
            var session = (flags & HasSession) != 0 ? ReadField(span, ref at) : null;
            var user = (flags & HasUser) != 0 ? ReadField(span, ref at) : null;
            var connection = (flags & HasConnection) != 0 ? ReadField(span, ref at) : null;
            from = new ClientInfo(session, user, connection);
        }

        return new Publication(channel, @event, body[at..], position, time, from);
    }

    /// <summary>The frame the publish script sends for <paramref name="body"/> at <paramref name="position"/>, made locally.</summary>
    public static byte[] Frame(byte kind, StreamPosition position, ReadOnlySpan<byte> body)
    {
        var header = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(char)kind}{position.Offset} {position.Epoch} ");
        var frame = new byte[header.Length + body.Length];
        Encoding.ASCII.GetBytes(header, frame);
        body.CopyTo(frame.AsSpan(header.Length));
        return frame;
    }

    /// <summary>A pub/sub frame split into its parts (see the class remarks).</summary>
    public static bool TryParseFrame(ReadOnlyMemory<byte> frame, out byte kind, out ulong offset, out string epoch, out ReadOnlyMemory<byte> payload)
    {
        var span = frame.Span;
        kind = 0;
        offset = 0;
        epoch = string.Empty;
        payload = default;
        if (span.Length < 4)
        {
            return false;
        }

        kind = span[0];
        int at = 1;
        while (at < span.Length && span[at] != (byte)' ')
        {
            uint digit = (uint)(span[at] - '0');
            if (digit > 9)
            {
                return false;
            }

            offset = checked((offset * 10) + digit);
            at++;
        }

        int epochStart = ++at;
        int space = epochStart < span.Length ? span[epochStart..].IndexOf((byte)' ') : -1;
        if (space <= 0)
        {
            return false;
        }

        epoch = Encoding.ASCII.GetString(span.Slice(epochStart, space));
        payload = frame[(epochStart + space + 1)..];
        return true;
    }

    private static int FieldLength(string? value) => value is null ? 0 : 2 + Encoding.UTF8.GetByteCount(value);

    private static int WriteField(Span<byte> span, int at, string? value)
    {
        if (value is null)
        {
            return at;
        }

        int written = Encoding.UTF8.GetBytes(value, span[(at + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], checked((ushort)written));
        return at + 2 + written;
    }

    private static string ReadField(ReadOnlySpan<byte> span, ref int at)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
        var value = Encoding.UTF8.GetString(span.Slice(at + 2, length));
        at += 2 + length;
        return value;
    }
}
