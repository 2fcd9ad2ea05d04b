using System.Text.Json;
using Broker.Sdk.Internal;

namespace Broker.Sdk;

/// <summary>One publication of a channel, as <see cref="BrokerClient.SubscribeAsync(IEnumerable{string}, IReadOnlyDictionary{string, StreamPosition}?, SubscribeOptions?, CancellationToken)"/> and <see cref="BrokerClient.HistoryAsync"/> give it.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Event">The event name.</param>
/// <param name="Data">The data, UTF-8 JSON.</param>
/// <param name="Offset">Its offset in the channel.</param>
/// <param name="Epoch">The channel's epoch.</param>
/// <param name="Time">When the broker accepted it.</param>
/// <param name="From">The browser that published it, or null for a backend publication.</param>
public sealed record Publication(string Channel, string Event, ReadOnlyMemory<byte> Data, ulong Offset, string Epoch, DateTimeOffset Time, ClientInfo? From)
{
    /// <summary>The stream position of this publication.</summary>
    public StreamPosition Position => new(Epoch, Offset);

    /// <summary>Deserializes <see cref="Data"/>.</summary>
    /// <param name="options">Serializer options; null: <see cref="JsonSerializerDefaults.Web"/>.</param>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Data.Span, options ?? JsonDefaults.Web);

    internal static Publication FromProto(V1.Publication publication) => new(
        publication.Channel,
        publication.Event,
        publication.Data.Memory,
        publication.Offset,
        publication.Epoch,
        DateTimeOffset.FromUnixTimeMilliseconds(publication.TimeUnixMs),
        publication.From is { } from && (from.SessionId.Length > 0 || from.UserId.Length > 0 || from.ConnectionId.Length > 0) ? ClientInfo.FromProto(from) : null);
}
