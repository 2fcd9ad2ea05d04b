using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>The request stream of a client call: each message framed into a pooled buffer, written and flushed.</summary>
internal sealed class ClientCallStreamWriter<TRequest, TResponse> : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcCall<TRequest, TResponse> _call;
    private readonly PushStreamContent _content;
    private int _writing;
    private bool _completed;

    public ClientCallStreamWriter(GrpcCall<TRequest, TResponse> call, PushStreamContent content)
    {
        _call = call;
        _content = content;
    }

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(TRequest message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            throw new InvalidOperationException("Can't write the message because the previous write is in progress.");
        }

        try
        {
            ThrowIfEnded();
            if (_completed)
            {
                throw new InvalidOperationException("Request stream has already been completed.");
            }

            var framedSize = GrpcMessageWriter.GetFramedSize(message);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(framedSize);
            try
            {
                var written = GrpcMessageWriter.WriteMessage(message, buffer, _call.MaxSendMessageSize);
                var stream = await _content.GetStreamAsync().WaitAsync(_call.CallToken);
                using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(_call.CallToken, cancellationToken) : null;
                var token = linked?.Token ?? _call.CallToken;
                await stream.WriteAsync(buffer.AsMemory(0, written), token);
                if (((WriteOptions?.Flags ?? WriteFlags.None) & WriteFlags.BufferHint) == 0)
                {
                    // One flush per message: the server sees each message when it is written.
                    await stream.FlushAsync(token);
                }
            }
            catch (RpcException ex) when (_call.StatusOrNull is null)
            {
                // Too large to send: the call fails with that status, as grpc-core does.
                _call.Cancel(ex.Status);
                throw;
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
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    public Task CompleteAsync()
    {
        _completed = true;
        _content.Complete();
        return Task.CompletedTask;
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
