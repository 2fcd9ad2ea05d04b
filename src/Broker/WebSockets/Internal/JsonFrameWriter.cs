using System.Buffers;
using System.Text.Json;
using Broker.Core;
using Broker.Engines;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// Builds server frames as UTF-8 JSON with a per-thread <see cref="Utf8JsonWriter"/> and buffer, reused
/// across frames, so a frame costs only its final byte array.
/// </summary>
internal static class JsonFrameWriter
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Runs <paramref name="write"/> on a reset writer and returns the bytes it wrote.</summary>
    public static byte[] Build<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = WireJsonEncoder.Instance });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer, state);
        writer.Flush();
        var bytes = buffer.WrittenSpan.ToArray();

        // Don't let one huge frame (a history reply) pin a huge buffer to the thread forever.
        if (buffer.Capacity > 64 * 1024)
        {
            t_buffer = null;
            t_writer = null;
        }

        return bytes;
    }

    /// <summary>Writes <c>"time":"2026-11-21T20:00:00.000Z"</c>: ISO 8601, UTC, milliseconds.</summary>
    public static void WriteTime(Utf8JsonWriter writer, DateTimeOffset time)
    {
        Span<char> text = stackalloc char[WireTime.Length];
        writer.WriteString("time"u8, text[..WireTime.Write(time, text)]);
    }

    /// <summary>Writes a publication's fields (without <c>type</c>): what <c>pub</c> frames and <c>history</c> replies carry.</summary>
    public static void WritePublicationFields(Utf8JsonWriter writer, Publication publication)
    {
        writer.WriteString("channel"u8, publication.Channel);
        writer.WriteString("event"u8, publication.Event);
        writer.WritePropertyName("data"u8);
        writer.WriteRawValue(publication.Data.Span, skipInputValidation: true);  // validated when published
        writer.WriteNumber("offset"u8, publication.Offset);
        writer.WriteString("epoch"u8, publication.Epoch);
        WriteTime(writer, publication.Time);
        if (publication.From is { } from)
        {
            // A browser's publication names its user, never its session (PROTOCOL.md); an anonymous
            // sender shows as {} and a backend's publication has no "from".
            writer.WriteStartObject("from"u8);
            if (from.UserId is { } userId)
            {
                writer.WriteString("userId"u8, userId);
            }

            writer.WriteEndObject();
        }
    }
}
