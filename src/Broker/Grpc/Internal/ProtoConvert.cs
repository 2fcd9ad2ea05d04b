using Google.Protobuf;
using Engines = Broker.Engines;
using V1 = Broker.V1;

namespace Broker.Grpc.Internal;

/// <summary>Engine types to and from their <c>broker.v1</c> messages.</summary>
internal static class ProtoConvert
{
    public static V1.Publication ToProto(Engines.Publication publication) => new()
    {
        Channel = publication.Channel,
        Event = publication.Event,
        // The publication's bytes are immutable and outlive the message: wrap, don't copy.
        Data = UnsafeByteOperations.UnsafeWrap(publication.Data),
        Offset = publication.Offset,
        Epoch = publication.Epoch,
        TimeUnixMs = publication.Time.ToUnixTimeMilliseconds(),
        From = publication.From is { } from ? ToProto(from) : null,
    };

    public static V1.ClientInfo ToProto(Engines.ClientInfo client) => new()
    {
        SessionId = client.SessionId ?? string.Empty,
        UserId = client.UserId ?? string.Empty,
        ConnectionId = client.ConnectionId ?? string.Empty,
    };

    public static V1.StreamPosition ToProto(Engines.StreamPosition position) => new() { Epoch = position.Epoch, Offset = position.Offset };

    public static Engines.StreamPosition FromProto(V1.StreamPosition position) => new(position.Epoch, position.Offset);

    /// <summary>Proto3 strings are never null: empty means "not set".</summary>
    public static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
