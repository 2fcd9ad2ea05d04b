using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Grpc.Transport;

/// <summary>
/// Writes response messages into the HTTP/2 response body. Messages are framed into the writer's own pooled buffer
/// and moved into Kestrel's response pipe in one piece when flushed (or when the buffer passes
/// <see cref="CommitThreshold"/>): each <c>GetSpan</c>/<c>Advance</c> on Kestrel's HTTP/2 body writer takes the
/// stream's lock, so doing it once per batch instead of twice or more per message matters for small messages.
/// A write without <see cref="WriteFlags.BufferHint"/> flushes at once.
/// </summary>
internal sealed class HttpContextStreamWriter<T> : IServerStreamWriter<T>, IRawMessageWriter
    where T : class, IMessage<T>
{
    // Past this the buffer is moved into Kestrel's pipe even without a flush: bounds the memory a long buffered
    // run holds, while still amortizing the lock over a few hundred small messages.
    private const int CommitThreshold = 32 * 1024;

    // The first rent: a typical batch of small messages fits without growing.
    private const int InitialBufferSize = 4096;

    private readonly HttpServerCallContext _call;
    private byte[]? _buffer;
    private int _buffered;
    private int _writing;

    public HttpContextStreamWriter(HttpServerCallContext call)
    {
        _call = call;
    }

    /// <summary>Set when the handler has returned: a late write from a leaked task must fail, not corrupt the stream.</summary>
    public bool Completed { get; private set; }

    /// <summary>
    /// The handler has returned: moves what is still buffered into the response (sent with the trailers) and
    /// lets go of the buffer. Later writes fail.
    /// </summary>
    public void Complete()
    {
        Completed = true;
        if (_buffered > 0 && !_call.ClientAborted)
        {
            Commit();
        }

        // Dropped, not returned to the pool: a write leaked past the handler's end (a handler bug) could still be
        // copying into it, and a pooled array shared that way would corrupt another stream's messages.
        _buffer = null;
        _buffered = 0;
    }

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
            var size = message.CalculateSize();
            _buffered += GrpcMessageWriter.WriteMessage(message, size, Reserve(GrpcProtocol.MessageHeaderSize + size), _call.Options.MaxSendMessageSize);
            _call.ResponseBodyStarted = true;
            if (((WriteOptions?.Flags ?? WriteFlags.None) & WriteFlags.BufferHint) != 0)
            {
                if (_buffered >= CommitThreshold)
                {
                    Commit();
                }

                return Task.CompletedTask;
            }

            Commit();
            var flush = _call.GetHttpContext().Response.BodyWriter.FlushAsync(token);
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

        var span = Reserve(GrpcProtocol.MessageHeaderSize + message.Length);
        span[0] = 0;  // not compressed
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)message.Length);
        message.Span.CopyTo(span[GrpcProtocol.MessageHeaderSize..]);
        _buffered += GrpcProtocol.MessageHeaderSize + message.Length;
        _call.ResponseBodyStarted = true;
        if (flush)
        {
            return FlushAsync();
        }

        if (_buffered >= CommitThreshold)
        {
            Commit();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync()
    {
        Commit();
        var flush = _call.GetHttpContext().Response.BodyWriter.FlushAsync(_call.CancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            return flush.Result.IsCanceled ? ValueTask.FromCanceled(_call.CancellationToken) : ValueTask.CompletedTask;
        }

        return new ValueTask(AwaitFlushRaw(flush));
    }

    /// <summary>Room for <paramref name="size"/> more bytes at the end of the buffer, growing it from the pool.</summary>
    private Span<byte> Reserve(int size)
    {
        if (_buffer is null || _buffer.Length - _buffered < size)
        {
            var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(InitialBufferSize, _buffered + size));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _buffered).CopyTo(bigger);
                System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        return _buffer.AsSpan(_buffered, size);
    }

    /// <summary>Moves the buffered bytes into Kestrel's response pipe: one span, one advance (one lock each).</summary>
    private void Commit()
    {
        if (_buffered == 0)
        {
            return;
        }

        var writer = _call.GetHttpContext().Response.BodyWriter;
        var destination = writer.GetSpan(_buffered);
        _buffer.AsSpan(0, _buffered).CopyTo(destination);
        writer.Advance(_buffered);
        _buffered = 0;
    }

    /// <summary>Awaits a flush that did not complete at once; a client reset becomes the call's cancellation.</summary>
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
            // The client reset the stream under a write blocked by flow control: a cancellation, not a bug.
            throw _call.ClientReset(ex);
        }
    }

    /// <summary>A message write's flush that did not complete at once: as <see cref="AwaitFlushRaw"/>, then the next write may start.</summary>
    private async Task AwaitFlush(ValueTask<System.IO.Pipelines.FlushResult> flush)
    {
        try
        {
            await AwaitFlushRaw(flush);
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }
}
