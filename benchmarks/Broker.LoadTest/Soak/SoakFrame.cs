using System.Text.Json;

namespace Broker.LoadTest.Soak;

/// <summary>
/// The fields of one server frame the soak reads (PROTOCOL.md, "Server to client"): its type, reply id, channel,
/// stream position, <c>lagged</c> count, <c>recovered</c>, error or close code. <c>data</c> and lists are skipped.
/// </summary>
internal readonly record struct SoakFrame(SoakFrameType Type, long? Id, string? Channel, string? Epoch, long Offset, long Dropped, bool Recovered, string? Code)
{
    /// <summary>Reads one frame (one JSON object); false when it is not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out SoakFrame frame)
    {
        frame = default;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var type = SoakFrameType.Other;
            long? id = null;
            string? channel = null, epoch = null, code = null;
            long offset = 0, dropped = 0;
            bool recovered = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("type"u8))
                {
                    type = TypeOf(reader.ValueSpan);
                }
                else if (name.SequenceEqual("id"u8))
                {
                    id = reader.GetInt64();
                }
                else if (name.SequenceEqual("channel"u8))
                {
                    channel = reader.GetString();
                }
                else if (name.SequenceEqual("epoch"u8))
                {
                    epoch = reader.GetString();
                }
                else if (name.SequenceEqual("offset"u8))
                {
                    offset = reader.GetInt64();
                }
                else if (name.SequenceEqual("dropped"u8))
                {
                    dropped = reader.GetInt64();
                }
                else if (name.SequenceEqual("recovered"u8))
                {
                    recovered = reader.GetBoolean();
                }
                else if (name.SequenceEqual("code"u8))
                {
                    // error: a string; disconnect: a number.
                    code = reader.TokenType == JsonTokenType.String ? reader.GetString() : reader.GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                else
                {
                    reader.Skip();
                }
            }

            frame = new SoakFrame(type, id, channel, epoch, offset, dropped, recovered, code);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;  // a field of the wrong JSON type
        }
    }

    private static SoakFrameType TypeOf(ReadOnlySpan<byte> type) => type switch
    {
        _ when type.SequenceEqual("pub"u8) => SoakFrameType.Pub,
        _ when type.SequenceEqual("ack"u8) => SoakFrameType.Ack,
        _ when type.SequenceEqual("ping"u8) => SoakFrameType.Ping,
        _ when type.SequenceEqual("lagged"u8) => SoakFrameType.Lagged,
        _ when type.SequenceEqual("subscribed"u8) => SoakFrameType.Subscribed,
        _ when type.SequenceEqual("welcome"u8) => SoakFrameType.Welcome,
        _ when type.SequenceEqual("error"u8) => SoakFrameType.Error,
        _ when type.SequenceEqual("disconnect"u8) => SoakFrameType.Disconnect,
        _ => SoakFrameType.Other,
    };
}
