using System.Text.Json;
using Broker.Sdk.Internal;

namespace Broker.Sdk;

/// <summary>One browser <c>send</c> given to this handler (the broker's <c>Inbound</c>).</summary>
public sealed class HandlerContext
{
    internal HandlerContext(ulong inboundId, string @event, ReadOnlyMemory<byte> data, ClientInfo from, DateTimeOffset deadline, string group, string handlerId, JsonSerializerOptions jsonOptions)
    {
        InboundId = inboundId;
        Event = @event;
        Data = data;
        From = from;
        Deadline = deadline;
        Group = group;
        HandlerId = handlerId;
        JsonOptions = jsonOptions;
    }

    /// <summary>The broker's id of this message, unique within the handler stream.</summary>
    public ulong InboundId { get; }

    /// <summary>The <c>send</c> frame's event name, e.g. <c>chat.post</c>.</summary>
    public string Event { get; }

    /// <summary>The <c>send</c> frame's data, UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The sender: session id, user id (empty for a session without a user), connection id.</summary>
    public ClientInfo From { get; }

    /// <summary>When the browser stops waiting (it then gets <c>error</c> <c>timeout</c>); the handler's token is cancelled then.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>The handler group.</summary>
    public string Group { get; }

    /// <summary>The broker's id of this handler's registration.</summary>
    public string HandlerId { get; }

    /// <summary>The serializer options of the client (<see cref="BrokerClientOptions.JsonSerializerOptions"/>).</summary>
    public JsonSerializerOptions JsonOptions { get; }

    /// <summary>Deserializes <see cref="Data"/>; throws <see cref="JsonException"/> when it does not fit <typeparamref name="T"/>.</summary>
    public T? ReadJson<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Data.Span, options ?? JsonOptions ?? JsonDefaults.Web);
}
