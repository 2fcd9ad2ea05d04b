using Broker.Core;
using Broker.Engines;
using Broker.Grpc.Internal;
using Google.Protobuf;
using WireFormat = Broker.Engines.WireFormat;

namespace Broker.Grpc;

/// <summary>
/// The gRPC wire form of a publication: a serialized <c>Delivery{publication}</c>, encoded once per
/// publication and written as is to every <c>Subscribe</c> stream (<see cref="V1.BrokerMethods.SubscribeEncoded"/>).
/// </summary>
public sealed class ProtobufDeliveryFormat : WireFormat
{
    /// <summary>The one instance: the encoded-bytes cache is keyed by format identity.</summary>
    public static readonly ProtobufDeliveryFormat Instance = new();

    private ProtobufDeliveryFormat()
    {
    }

    /// <inheritdoc/>
    public override byte[] Encode(ChannelMessage message) => message is Publication publication
        ? new V1.Delivery { Publication = ProtoConvert.ToProto(publication) }.ToByteArray()
        : throw new ArgumentException($"gRPC subscribers receive publications only, not {message.GetType().Name}.", nameof(message));
}
