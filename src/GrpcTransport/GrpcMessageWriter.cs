using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;

namespace Broker.GrpcTransport;

/// <summary>
/// Writes gRPC length-prefixed messages, uncompressed, serializing straight into the destination's buffers.
/// </summary>
public static class GrpcMessageWriter
{
    /// <summary>The number of bytes <see cref="WriteMessage(IMessage, Span{byte}, int)"/> needs for a message.</summary>
    public static int GetFramedSize(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return GrpcProtocol.MessageHeaderSize + message.CalculateSize();
    }

    /// <summary>Writes one framed message into a buffer writer (e.g. a <c>PipeWriter</c>); does not flush.</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the message exceeds <paramref name="maxMessageSize"/>.</exception>
    public static void WriteMessage(IBufferWriter<byte> output, IMessage message, int maxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        ThrowIfTooLarge(size, maxMessageSize);
        var header = output.GetSpan(GrpcProtocol.MessageHeaderSize);
        WriteHeader(header, size);
        output.Advance(GrpcProtocol.MessageHeaderSize);
        if (size > 0)
        {
            // Serializes segment by segment into the writer's pooled memory: no intermediate array.
            message.WriteTo(output);
        }
    }

    /// <summary>Writes one framed message into a span at least <see cref="GetFramedSize"/> long; returns the bytes written.</summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the message exceeds <paramref name="maxMessageSize"/>.</exception>
    public static int WriteMessage(IMessage message, Span<byte> destination, int maxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        ThrowIfTooLarge(size, maxMessageSize);
        WriteHeader(destination, size);
        message.WriteTo(destination.Slice(GrpcProtocol.MessageHeaderSize, size));
        return GrpcProtocol.MessageHeaderSize + size;
    }

    /// <summary>
    /// Writes one framed message whose serialized size the caller has just computed (<see cref="IMessage.CalculateSize"/>)
    /// into a span at least <see cref="GrpcProtocol.MessageHeaderSize"/> + <paramref name="size"/> long; returns the bytes
    /// written. Saves computing the size twice when the caller needed it to find room.
    /// </summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the message exceeds <paramref name="maxMessageSize"/>.</exception>
    public static int WriteMessage(IMessage message, int size, Span<byte> destination, int maxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThrowIfTooLarge(size, maxMessageSize);
        WriteHeader(destination, size);
        message.WriteTo(destination.Slice(GrpcProtocol.MessageHeaderSize, size));
        return GrpcProtocol.MessageHeaderSize + size;
    }

    private static void WriteHeader(Span<byte> header, int size)
    {
        // Flag 0: not compressed (identity is the only encoding we implement).
        header[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header.Slice(1, 4), (uint)size);
    }

    private static void ThrowIfTooLarge(int size, int maxMessageSize)
    {
        if (size > maxMessageSize)
        {
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                string.Create(CultureInfo.InvariantCulture, $"Sending message larger than max ({size} vs. {maxMessageSize})")));
        }
    }
}
