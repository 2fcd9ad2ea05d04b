using Google.Protobuf;
using Grpc.Core;

namespace Broker.V1;

/// <summary>
/// Marshallers for <see cref="BrokerMethods"/>: protobuf messages written straight into the transport's buffer and
/// parsed from its sequence (as Grpc.Tools' generated stubs do, with no intermediate array), and pre-encoded bytes.
/// </summary>
public static class ProtobufMarshaller
{
    /// <summary>
    /// Writes a message that is already serialized: the payload is the array as it is. The broker's Subscribe
    /// stream writes each publication's <c>Delivery</c> bytes, encoded once and shared, with this.
    /// </summary>
    public static Marshaller<byte[]> PreEncoded { get; } = Marshallers.Create(
        static (bytes, context) =>
        {
            context.SetPayloadLength(bytes.Length);
            var writer = context.GetBufferWriter();
            bytes.CopyTo(writer.GetSpan(bytes.Length));
            writer.Advance(bytes.Length);
            context.Complete();
        },
        static context => context.PayloadAsNewBuffer());

    /// <summary>The marshaller of a protobuf message type.</summary>
    public static Marshaller<T> For<T>(MessageParser<T> parser)
        where T : IMessage<T> => Marshallers.Create(
        static (message, context) =>
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
        },
        context => parser.ParseFrom(context.PayloadAsReadOnlySequence()));
}
