using System.Buffers;
using System.Net;
using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>The body of a single-request call: one framed message, of known length, from a pooled buffer.</summary>
internal sealed class UnaryRequestContent : HttpContent
{
    private readonly IMessage _message;
    private readonly int _maxMessageSize;
    private readonly int _framedSize;

    public UnaryRequestContent(IMessage message, int maxMessageSize)
    {
        _message = message;
        _maxMessageSize = maxMessageSize;
        _framedSize = GrpcMessageWriter.GetFramedSize(message);
        Headers.TryAddWithoutValidation("content-type", GrpcProtocol.ContentType);
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_framedSize);
        try
        {
            var written = GrpcMessageWriter.WriteMessage(_message, buffer, _maxMessageSize);
            await stream.WriteAsync(buffer.AsMemory(0, written), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _framedSize;
        return true;
    }
}
