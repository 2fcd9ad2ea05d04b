using System.Text.Json;
using Broker.Core;
using Broker.Engines;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// Reads one client frame (one JSON object) with <see cref="Utf8JsonReader"/>: no DOM, no reflection;
/// unknown fields are skipped; <c>data</c> is kept as its raw JSON text, already validated by the reader.
/// </summary>
internal static class ClientFrameParser
{
    // Frames are small objects; 32 levels is deep enough for any data a chat sends and stops a
    // pathological nesting before the reader's own 64.
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 32, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Parses <paramref name="json"/>; on failure <paramref name="error"/> says why, and <paramref name="frame"/> holds what was read (the id, if it came first).</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out ClientFrame frame, out string? error)
    {
        frame = new ClientFrame();
        try
        {
            error = Parse(json, frame);
        }
        catch (JsonException)
        {
            error = "The frame is not valid JSON: a frame is one JSON object, UTF-8, nested at most 32 deep.";
        }
        catch (InvalidOperationException)
        {
            error = "The frame is not valid JSON: a frame is one JSON object, UTF-8, nested at most 32 deep.";
        }

        return error is null;
    }

    private static string? Parse(ReadOnlySpan<byte> json, ClientFrame frame)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "A frame is one JSON object.";
        }

        bool hasType = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                if (!ReadString(ref reader, out var type))
                {
                    return "'type' must be a string.";
                }

                hasType = true;
                frame.Type = TypeOf(type);
                frame.TypeText = type;
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long id))
                {
                    return "'id' must be an integer.";
                }

                frame.Id = id;
            }
            else if (reader.ValueTextEquals("channel"u8))
            {
                if (!ReadString(ref reader, out frame.Channel))
                {
                    return "'channel' must be a string.";
                }
            }
            else if (reader.ValueTextEquals("event"u8))
            {
                if (!ReadString(ref reader, out frame.Event))
                {
                    return "'event' must be a string.";
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                int start = (int)reader.TokenStartIndex;
                reader.Skip();  // to the end of an object or array; a no-op for a single value
                frame.Data = json[start..(int)reader.BytesConsumed].ToArray();
            }
            else if (reader.ValueTextEquals("ticket"u8))
            {
                if (!ReadString(ref reader, out frame.Ticket))
                {
                    return "'ticket' must be a string.";
                }
            }
            else if (reader.ValueTextEquals("client"u8))
            {
                if (!ReadString(ref reader, out frame.Client))
                {
                    return "'client' must be a string.";
                }
            }
            else if (reader.ValueTextEquals("since"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                if (ReadPosition(ref reader) is not { } since)
                {
                    return "'since' must be {\"epoch\": string, \"offset\": integer >= 0}.";
                }

                frame.Since = since;
            }
            else if (reader.ValueTextEquals("limit"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int limit) || limit < 0)
                {
                    return "'limit' must be an integer >= 0.";
                }

                frame.Limit = limit;
            }
            else if (reader.ValueTextEquals("resume"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    return "'resume' must be an object of channel -> {epoch, offset}.";
                }

                frame.Resume = new Dictionary<string, StreamPosition>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    string channel = reader.GetString()!;
                    reader.Read();
                    if (ReadPosition(ref reader) is not { } position)
                    {
                        return $"'resume' of '{channel}' must be {{\"epoch\": string, \"offset\": integer >= 0}}.";
                    }

                    frame.Resume[channel] = position;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return "A frame is one JSON object.";
        }

        return hasType ? null : "The frame has no 'type'.";
    }

    private static bool ReadString(ref Utf8JsonReader reader, out string? value)
    {
        reader.Read();
        value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return value is not null;
    }

    private static StreamPosition? ReadPosition(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? epoch = null;
        ulong? offset = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("epoch"u8))
            {
                reader.Read();
                epoch = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("offset"u8))
            {
                reader.Read();
                offset = reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out ulong o) ? o : null;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return epoch is not null && offset is not null ? new StreamPosition(epoch, offset.Value) : null;
    }

    private static ClientFrameType TypeOf(string? type) => type switch
    {
        "hello" => ClientFrameType.Hello,
        "subscribe" => ClientFrameType.Subscribe,
        "unsubscribe" => ClientFrameType.Unsubscribe,
        "publish" => ClientFrameType.Publish,
        "send" => ClientFrameType.Send,
        "history" => ClientFrameType.History,
        "presence" => ClientFrameType.Presence,
        "ping" => ClientFrameType.Ping,
        "pong" => ClientFrameType.Pong,
        _ => ClientFrameType.Unknown,
    };
}
