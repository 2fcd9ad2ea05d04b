using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Broker.GrpcTransport;

/// <summary>
/// Reads gRPC length-prefixed messages (PROTOCOL-HTTP2.md "Length-Prefixed-Message": a compressed-flag
/// byte, a 4-byte big-endian length, the message) from a <see cref="PipeReader"/>, parsing straight from the
/// pipe's pooled segments without copying.
/// </summary>
public static class GrpcMessageReader
{
    /// <summary>
    /// Takes one complete message off the front of <paramref name="buffer"/>. Returns false, leaving the buffer
    /// untouched, when the message is not complete yet.
    /// </summary>
    /// <param name="buffer">The buffered bytes; on success, advanced past the message.</param>
    /// <param name="maxMessageSize">The largest message accepted, in bytes.</param>
    /// <param name="message">The message bytes (without the prefix).</param>
    /// <param name="compressed">Whether the compressed flag was set.</param>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED over the limit; INTERNAL for a bad flag byte.</exception>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out ReadOnlySequence<byte> message, out bool compressed)
    {
        message = default;
        compressed = false;
        if (buffer.Length < GrpcProtocol.MessageHeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[GrpcProtocol.MessageHeaderSize];
        buffer.Slice(0, GrpcProtocol.MessageHeaderSize).CopyTo(header);
        var flag = header[0];
        if (flag > 1)
        {
            // Only 0 and 1 are defined; anything else means the stream is not gRPC framing.
            throw new RpcException(new Status(StatusCode.Internal, "Invalid compressed flag value in message header."));
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            // Checked on the prefix alone, before buffering the body, so an oversized message costs no memory.
            throw new RpcException(new Status(
                StatusCode.ResourceExhausted,
                string.Create(CultureInfo.InvariantCulture, $"Received message larger than max ({length} vs. {maxMessageSize})")));
        }

        if (buffer.Length < GrpcProtocol.MessageHeaderSize + length)
        {
            return false;
        }

        message = buffer.Slice(GrpcProtocol.MessageHeaderSize, length);
        buffer = buffer.Slice(message.End);
        compressed = flag == 1;
        return true;
    }

    /// <summary>
    /// Reads the next message, or null at the clean end of the stream.
    /// </summary>
    /// <param name="reader">The body.</param>
    /// <param name="parser">Parses the message.</param>
    /// <param name="maxMessageSize">The largest message accepted, in bytes.</param>
    /// <param name="messageEncoding">The peer's <c>grpc-encoding</c> header, or null.</param>
    /// <param name="cancellationToken">Cancels the wait for data.</param>
    /// <exception cref="RpcException">
    /// RESOURCE_EXHAUSTED over the limit; INTERNAL for a truncated or unparsable message, or a compressed
    /// message without a <c>grpc-encoding</c>; UNIMPLEMENTED for a compressed message in an encoding this
    /// transport does not implement (only identity).
    /// </exception>
    /// <remarks>
    /// The batched read with a batch of one (the unary paths read a request or a reply this way; streams read
    /// batches), so both share one read loop and one set of failures.
    /// </remarks>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxMessageSize, string? messageEncoding, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var one = new Queue<T>(1);
        return await ReadMessagesAsync(reader, parser, maxMessageSize, messageEncoding, one, 1, cancellationToken) ? one.Dequeue() : null;
    }

    /// <summary>
    /// Reads every whole message already buffered, up to <paramref name="maxCount"/>, into
    /// <paramref name="messages"/>, waiting for the network only while none is. Returns false at the clean end of
    /// the stream with nothing added. One pipe read and one <see cref="PipeReader.AdvanceTo(SequencePosition, SequencePosition)"/>
    /// then serve a whole batch: on Kestrel each advance takes the HTTP/2 flow-control locks, so doing it per
    /// batch instead of per message matters on a stream of small messages.
    /// </summary>
    /// <remarks>
    /// A message that fails (too large, bad flag, compressed, unparsable) after others were read is left unread:
    /// the batch before it is returned, and the next call throws for it, so the failure comes in stream order.
    /// </remarks>
    /// <inheritdoc cref="ReadMessageAsync{T}(PipeReader, MessageParser{T}, int, string?, CancellationToken)"/>
    // Pooled builder: a stream reads one batch after another, and each read that has to wait for the network
    // would otherwise allocate a new state-machine box.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> ReadMessagesAsync<T>(PipeReader reader, MessageParser<T> parser, int maxMessageSize, string? messageEncoding, Queue<T> messages, int maxCount, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(parser);
        ArgumentNullException.ThrowIfNull(messages);
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            try
            {
                int added = 0;
                bool partialLeft = false;
                while (added < maxCount)
                {
                    var before = buffer;
                    try
                    {
                        if (!TryReadMessage(ref buffer, maxMessageSize, out var payload, out var compressed))
                        {
                            partialLeft = true;
                            break;
                        }

                        if (compressed)
                        {
                            throw CompressedMessageError(messageEncoding);
                        }

                        messages.Enqueue(Parse(parser, payload));
                    }
                    catch (RpcException) when (added > 0)
                    {
                        // Delivered after the batch before it: the next call meets it first and throws.
                        buffer = before;
                        break;
                    }

                    added++;
                    consumed = buffer.Start;
                }

                if (added > 0)
                {
                    // What is left is known to be an incomplete message only when the loop ran out of whole ones;
                    // otherwise (batch full, failure) the next read must look at it again at once.
                    examined = partialLeft ? examined : consumed;
                    return true;
                }

                if (result.IsCompleted)
                {
                    consumed = buffer.End;
                    if (!buffer.IsEmpty)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, "Incomplete message."));
                    }

                    return false;
                }

                if (result.IsCanceled)
                {
                    throw new OperationCanceledException("The read was cancelled.");
                }
            }
            finally
            {
                reader.AdvanceTo(consumed, examined);
            }
        }
    }

    /// <summary>The status for a message with the compressed flag set, since only identity is implemented.</summary>
    public static RpcException CompressedMessageError(string? messageEncoding)
    {
        if (string.IsNullOrEmpty(messageEncoding) || string.Equals(messageEncoding, GrpcProtocol.IdentityEncoding, StringComparison.Ordinal))
        {
            // A compressed flag with no (or identity) encoding is a protocol violation (doc/compression.md).
            return new RpcException(new Status(StatusCode.Internal, "Request sent a compressed message without a grpc-encoding."));
        }

        return new RpcException(new Status(
            StatusCode.Unimplemented,
            $"Unsupported grpc-encoding value '{messageEncoding}'. Supported encodings: {GrpcProtocol.IdentityEncoding}"));
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload)
        where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize message: " + ex.Message));
        }
    }
}
