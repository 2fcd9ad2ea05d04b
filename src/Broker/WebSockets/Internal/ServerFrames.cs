using System.Text.Json;
using Broker.Core;
using Broker.Engines;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>The server frames other than <c>pub</c>/<c>join</c>/<c>leave</c> (PROTOCOL.md, "Server to client").</summary>
internal static class ServerFrames
{
    public static readonly byte[] Ping = """{"type":"ping"}"""u8.ToArray();
    public static readonly byte[] Pong = """{"type":"pong"}"""u8.ToArray();

    public static byte[] Welcome(long? id, string connectionId, ClientInfo client, double pingIntervalSeconds, int maxMessageBytes, IReadOnlyList<SubscriptionStart> personal) =>
        JsonFrameWriter.Build((id, connectionId, client, pingIntervalSeconds, maxMessageBytes, personal), static (w, s) =>
        {
            Start(w, "welcome"u8, s.id);
            w.WriteString("connectionId"u8, s.connectionId);
            w.WriteString("sessionId"u8, s.client.SessionId);
            if (s.client.UserId is { } userId)
            {
                w.WriteString("userId"u8, userId);
            }
            else
            {
                w.WriteNull("userId"u8);
            }

            w.WriteNumber("pingInterval"u8, s.pingIntervalSeconds);
            w.WriteNumber("maxMessageBytes"u8, s.maxMessageBytes);
            w.WriteStartArray("subscriptions"u8);
            foreach (var p in s.personal)
            {
                w.WriteStartObject();
                w.WriteString("channel"u8, p.Channel);
                w.WriteString("epoch"u8, p.Position!.Value.Epoch);
                w.WriteNumber("offset"u8, p.Position.Value.Offset);
                w.WriteBoolean("recovered"u8, p.Recovered);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

    public static byte[] Subscribed(long? id, string channel, StreamPosition position, bool recovered) =>
        JsonFrameWriter.Build((id, channel, position, recovered), static (w, s) =>
        {
            Start(w, "subscribed"u8, s.id);
            w.WriteString("channel"u8, s.channel);
            w.WriteString("epoch"u8, s.position.Epoch);
            w.WriteNumber("offset"u8, s.position.Offset);
            w.WriteBoolean("recovered"u8, s.recovered);
            w.WriteEndObject();
        });

    public static byte[] Unsubscribed(long? id, string channel) =>
        JsonFrameWriter.Build((id, channel), static (w, s) =>
        {
            Start(w, "unsubscribed"u8, s.id);
            w.WriteString("channel"u8, s.channel);
            w.WriteEndObject();
        });

    public static byte[] Ack(long id, string channel, StreamPosition position) =>
        JsonFrameWriter.Build((id, channel, position), static (w, s) =>
        {
            Start(w, "ack"u8, s.id);
            w.WriteString("channel"u8, s.channel);
            w.WriteNumber("offset"u8, s.position.Offset);
            w.WriteString("epoch"u8, s.position.Epoch);
            w.WriteEndObject();
        });

    public static byte[] Reply(long id, ReadOnlyMemory<byte> data) =>
        JsonFrameWriter.Build((id, data), static (w, s) =>
        {
            Start(w, "reply"u8, s.id);
            w.WritePropertyName("data"u8);
            if (s.data.IsEmpty)
            {
                w.WriteNullValue();
            }
            else
            {
                // A handler's reply data is checked as JSON before it gets here (JsonDocument in the
                // handler transport), so it can be spliced in as is.
                w.WriteRawValue(s.data.Span, skipInputValidation: true);
            }

            w.WriteEndObject();
        });

    public static byte[] History(long? id, string channel, HistoryResult result) =>
        JsonFrameWriter.Build((id, channel, result), static (w, s) =>
        {
            Start(w, "history"u8, s.id);
            w.WriteString("channel"u8, s.channel);
            w.WriteString("epoch"u8, s.result.Position.Epoch);
            w.WriteNumber("offset"u8, s.result.Position.Offset);
            w.WriteBoolean("recovered"u8, s.result.Recovered);
            w.WriteStartArray("publications"u8);
            foreach (var publication in s.result.Publications)
            {
                w.WriteStartObject();
                JsonFrameWriter.WritePublicationFields(w, publication);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

    /// <summary>Browsers see presence per user; sessions without a user only count in <c>anonymous</c>.</summary>
    public static byte[] Presence(long? id, string channel, IReadOnlyList<PresenceEntry> entries) =>
        JsonFrameWriter.Build((id, channel, entries), static (w, s) =>
        {
            var perUser = new Dictionary<string, int>(StringComparer.Ordinal);
            int anonymous = 0;
            foreach (var entry in s.entries)
            {
                if (entry.UserId is { } user)
                {
                    perUser[user] = perUser.GetValueOrDefault(user) + entry.Connections;
                }
                else
                {
                    anonymous++;
                }
            }

            Start(w, "presence"u8, s.id);
            w.WriteString("channel"u8, s.channel);
            w.WriteStartArray("members"u8);
            foreach (var (user, connections) in perUser)
            {
                w.WriteStartObject();
                w.WriteString("userId"u8, user);
                w.WriteNumber("connections"u8, connections);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("anonymous"u8, anonymous);
            w.WriteEndObject();
        });

    public static byte[] Lagged(string channel, ulong dropped, string epoch, ulong lastDroppedOffset) =>
        JsonFrameWriter.Build((channel, dropped, epoch, lastDroppedOffset), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "lagged"u8);
            w.WriteString("channel"u8, s.channel);
            w.WriteNumber("dropped"u8, s.dropped);
            w.WriteString("epoch"u8, s.epoch);
            w.WriteNumber("offset"u8, s.lastDroppedOffset);
            w.WriteEndObject();
        });

    /// <summary>The <c>error</c> frame of a request the core refused.</summary>
    public static byte[] Error(long? id, BrokerError error) => Error(id, error.Name, error.Message, error.Channel);

    /// <summary>An error; <paramref name="channel"/> is added for errors about a <c>hello.resume</c> entry, which has no id.</summary>
    public static byte[] Error(long? id, string code, string message, string? channel = null) =>
        JsonFrameWriter.Build((id, code, message, channel), static (w, s) =>
        {
            Start(w, "error"u8, s.id);
            w.WriteString("code"u8, s.code);
            w.WriteString("message"u8, s.message);
            if (s.channel is not null)
            {
                w.WriteString("channel"u8, s.channel);
            }

            w.WriteEndObject();
        });

    public static byte[] Disconnect(int code, string reason, bool reconnect) =>
        JsonFrameWriter.Build((code, reason, reconnect), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "disconnect"u8);
            w.WriteNumber("code"u8, s.code);
            w.WriteString("reason"u8, s.reason);
            w.WriteBoolean("reconnect"u8, s.reconnect);
            w.WriteEndObject();
        });

    private static void Start(Utf8JsonWriter w, ReadOnlySpan<byte> type, long? id)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, type);
        if (id is { } value)
        {
            w.WriteNumber("id"u8, value);
        }
    }
}
