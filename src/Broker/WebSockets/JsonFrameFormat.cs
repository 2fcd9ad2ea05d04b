using Broker.Core;
using Broker.Engines;
using Broker.WebSockets.Internal;

namespace Broker.WebSockets;

/// <summary>
/// The WebSocket wire form of what subscribers receive: <c>pub</c>, <c>join</c> and <c>leave</c> frames.
/// Encoded once per message and shared by every socket (<see cref="ChannelMessage.GetEncoded"/>).
/// </summary>
public sealed class JsonFrameFormat : WireFormat
{
    /// <summary>The one instance: the encoded-bytes cache is keyed by format identity.</summary>
    public static readonly JsonFrameFormat Instance = new();

    private JsonFrameFormat()
    {
    }

    /// <inheritdoc/>
    public override byte[] Encode(ChannelMessage message) => message switch
    {
        Publication publication => JsonFrameWriter.Build(publication, static (w, p) =>
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "pub"u8);
            JsonFrameWriter.WritePublicationFields(w, p);
            w.WriteEndObject();
        }),
        PresenceEvent presence => JsonFrameWriter.Build(presence, static (w, p) =>
        {
            w.WriteStartObject();
            w.WriteString("type"u8, p.Joined ? "join"u8 : "leave"u8);
            w.WriteString("channel"u8, p.Channel);
            w.WriteStartObject("member"u8);
            w.WriteString("userId"u8, p.UserId);
            w.WriteEndObject();
            w.WriteEndObject();
        }),
        _ => throw new ArgumentException($"No WebSocket frame for {message.GetType().Name}.", nameof(message)),
    };
}
