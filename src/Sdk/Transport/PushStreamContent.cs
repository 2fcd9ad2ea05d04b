using System.Net;
using Broker.GrpcTransport;

namespace Broker.Sdk.Transport;

/// <summary>
/// The body of a streaming-request call: of unknown length (so HTTP/2 sends DATA frames as they come and no
/// content-length), held open until the request stream completes or the call ends. Writers get the
/// transport's stream from <see cref="GetStreamAsync"/> once HttpClient starts sending the body.
/// </summary>
internal sealed class PushStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PushStreamContent()
    {
        Headers.TryAddWithoutValidation("content-type", GrpcProtocol.ContentType);
    }

    public Task<Stream> GetStreamAsync() => _stream.Task;

    /// <summary>Ends the body gracefully: HttpClient then sends END_STREAM (half-close).</summary>
    public void Complete() => _complete.TrySetResult();

    /// <summary>
    /// Ends the body by failing it, so HttpClient resets the stream instead of half-closing it: a cancelled
    /// call must never look to the server like a request stream that completed normally.
    /// </summary>
    public void Abort() => _complete.TrySetCanceled();

    /// <summary>The call ended before the body started: writers waiting for the stream fail with the call's status.</summary>
    public void Fail(Exception error) => _stream.TrySetException(error);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _stream.TrySetResult(stream);
        try
        {
            // HttpClient cancels the token when the response ends first or the request is aborted.
            await _complete.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _complete.TrySetCanceled(cancellationToken);
            throw;
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
