using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Grpc.Transport;

/// <summary>
/// Writes response messages into the HTTP/2 response body: each message is serialized straight into
/// Kestrel's pooled pipe buffers and flushed, unless <see cref="WriteFlags.BufferHint"/> asks to batch.
/// </summary>
internal sealed class HttpContextStreamWriter<T> : IServerStreamWriter<T>, IRawMessageWriter
    where T : class, IMessage<T>
{
    private readonly HttpServerCallContext _call;
    private int _writing;

    public HttpContextStreamWriter(HttpServerCallContext call)
    {
        _call = call;
    }

    /// <summary>Set when the handler has returned: a late write from a leaked task must fail, not corrupt the stream.</summary>
    public bool Completed { get; set; }

    public WriteOptions? WriteOptions
    {
        get => _call.WriteOptions;
        set => _call.WriteOptions = value;
    }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Completed)
        {
            return Task.FromException(new InvalidOperationException("Can't write the message because the call is complete."));
        }

        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            // As grpc-dotnet: writes must be awaited one at a time; interleaved frames would corrupt the stream.
            return Task.FromException(new InvalidOperationException("Can't write the message because the previous write is in progress."));
        }

        var reset = true;
        try
        {
            var token = cancellationToken.CanBeCanceled ? cancellationToken : _call.CancellationToken;
            token.ThrowIfCancellationRequested();
            var writer = _call.GetHttpContext().Response.BodyWriter;
            GrpcMessageWriter.WriteMessage(writer, message, _call.Options.MaxSendMessageSize);
            _call.ResponseBodyStarted = true;
            if (((WriteOptions?.Flags ?? WriteFlags.None) & WriteFlags.BufferHint) != 0)
            {
                return Task.CompletedTask;
            }

            var flush = writer.FlushAsync(token);
            if (flush.IsCompletedSuccessfully)
            {
                // The usual case when the client keeps up: no async state machine.
                return flush.Result.IsCanceled ? Task.FromCanceled(token) : Task.CompletedTask;
            }

            reset = false;
            return AwaitFlush(flush);
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

    public ValueTask WriteRawAsync(ReadOnlyMemory<byte> message, bool flush)
    {
        if (Completed)
        {
            return ValueTask.FromException(new InvalidOperationException("Can't write the message because the call is complete."));
        }

        if (message.Length > _call.Options.MaxSendMessageSize)
        {
            return ValueTask.FromException(new RpcException(new Status(StatusCode.ResourceExhausted, $"Sending message exceeds the maximum configured message size ({message.Length} > {_call.Options.MaxSendMessageSize}).")));
        }

        var writer = _call.GetHttpContext().Response.BodyWriter;
        var prefix = writer.GetSpan(GrpcProtocol.MessageHeaderSize);
        prefix[0] = 0;  // not compressed
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)message.Length);
        writer.Advance(GrpcProtocol.MessageHeaderSize);
        System.Buffers.BuffersExtensions.Write(writer, message.Span);
        _call.ResponseBodyStarted = true;
        return flush ? FlushAsync() : ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync()
    {
        var flush = _call.GetHttpContext().Response.BodyWriter.FlushAsync(_call.CancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            return flush.Result.IsCanceled ? ValueTask.FromCanceled(_call.CancellationToken) : ValueTask.CompletedTask;
        }

        return new ValueTask(AwaitFlushRaw(flush));
    }

    private async Task AwaitFlushRaw(ValueTask<System.IO.Pipelines.FlushResult> flush)
    {
        try
        {
            if ((await flush).IsCanceled)
            {
                throw new OperationCanceledException("The write was cancelled.");
            }
        }
        catch (IOException ex)
        {
            _call.OnClientAborted();
            throw new OperationCanceledException("The client cancelled the call.", ex, _call.CancellationToken);
        }
    }

    private async Task AwaitFlush(ValueTask<System.IO.Pipelines.FlushResult> flush)
    {
        try
        {
            var result = await flush;
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The write was cancelled.");
            }
        }
        catch (IOException ex)
        {
            // The client reset the stream under a write blocked by flow control: a cancellation, not a bug.
            _call.OnClientAborted();
            throw new OperationCanceledException("The client cancelled the call.", ex, _call.CancellationToken);
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }
}
