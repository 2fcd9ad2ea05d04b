using System.Buffers;
using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>
/// The request stream of a client call. Messages are framed into one pooled buffer: a write with
/// <see cref="WriteFlags.BufferHint"/> only appends there (synchronously, no allocation), and the next write without
/// the hint (or <see cref="CompleteAsync"/>) sends the whole buffer as one body write and one flush. Many small
/// messages thus cost one HTTP/2 DATA frame and one trip through HttpClient's connection writer, not one each.
/// </summary>
internal sealed class ClientCallStreamWriter<TRequest, TResponse> : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    // Buffered bytes past this are sent even under BufferHint: bounds the memory a long buffered run holds, and
    // 64 KiB is several HTTP/2 frames, so the batching gain is already had.
    private const int SendThreshold = 64 * 1024;

    // The first rent: about thirty 100-byte publications, so a typical batch never grows the buffer.
    private const int InitialBufferSize = 4096;

    private readonly GrpcCall<TRequest, TResponse> _call;
    private readonly PushStreamContent _content;
    private byte[]? _buffer;
    private int _buffered;
    private Stream? _stream;
    private int _writing;
    private bool _completed;

    public ClientCallStreamWriter(GrpcCall<TRequest, TResponse> call, PushStreamContent content)
    {
        _call = call;
        _content = content;
    }

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(TRequest message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            return Task.FromException(new InvalidOperationException("Can't write the message because the previous write is in progress."));
        }

        var reset = true;
        try
        {
            ThrowIfEnded();
            if (_completed)
            {
                throw new InvalidOperationException("Request stream has already been completed.");
            }

            Append(message);
            if (((WriteOptions?.Flags ?? WriteFlags.None) & WriteFlags.BufferHint) != 0 && _buffered < SendThreshold)
            {
                // Buffered: the bytes wait for the next unbuffered write; nothing to await.
                return Task.CompletedTask;
            }

            reset = false;
            return SendBufferedAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
        finally
        {
            if (reset)
            {
                Volatile.Write(ref _writing, 0);
            }
        }
    }

    public async Task CompleteAsync()
    {
        if (_buffered > 0 && !_completed && _call.StatusOrNull is null)
        {
            // Buffered messages go out before the half-close, as BufferHint promises.
            Interlocked.Exchange(ref _writing, 1);
            try
            {
                await SendBufferedAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
            {
                // The call is broken: completing never failed before buffering existed, and the call's status (read
                // from the response) is what tells the caller how it ended.
            }
        }

        _completed = true;
        _content.Complete();
    }

    /// <summary>Frames the message at the end of the buffer, growing it (from the pool) when it does not fit.</summary>
    private void Append(TRequest message)
    {
        var size = message.CalculateSize();
        var framedSize = GrpcProtocol.MessageHeaderSize + size;
        if (_buffer is null || _buffer.Length - _buffered < framedSize)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(InitialBufferSize, _buffered + framedSize));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _buffered).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        try
        {
            _buffered += GrpcMessageWriter.WriteMessage(message, size, _buffer.AsSpan(_buffered), _call.MaxSendMessageSize);
        }
        catch (RpcException ex) when (_call.StatusOrNull is null)
        {
            // Too large to send: the call fails with that status, as grpc-core does.
            _call.Cancel(ex.Status);
            throw;
        }
    }

    /// <summary>Sends everything buffered in one body write and flushes; releases the write guard when done.</summary>
    private async Task SendBufferedAsync(CancellationToken cancellationToken)
    {
        var buffer = _buffer!;
        var length = _buffered;
        // The buffer leaves the writer for the send: a failed send must not leave half-sent bytes to be sent again.
        _buffer = null;
        _buffered = 0;
        try
        {
            // The body stream is known after the first send: no wait (and no token registration) per batch after that.
            var stream = _stream ??= await _content.GetStreamAsync().WaitAsync(_call.CallToken).ConfigureAwait(false);
            using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(_call.CallToken, cancellationToken) : null;
            var token = linked?.Token ?? _call.CallToken;
            await stream.WriteAsync(buffer.AsMemory(0, length), token).ConfigureAwait(false);
            await stream.FlushAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException && ex is not InvalidOperationException)
        {
            ThrowIfEnded();
            if (cancellationToken.IsCancellationRequested)
            {
                _call.Cancel(new Status(StatusCode.Cancelled, "Call canceled by the client."));
                ThrowIfEnded();
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Volatile.Write(ref _writing, 0);
        }
    }

    private void ThrowIfEnded()
    {
        if (_call.StatusOrNull is { } status)
        {
            // As Grpc.Net.Client: writing to a call that already ended reports how it ended.
            throw status.StatusCode == StatusCode.OK
                ? new InvalidOperationException("Can't write the message because the call is complete.")
                : new RpcException(status, _call.GetTrailers());
        }
    }
}
