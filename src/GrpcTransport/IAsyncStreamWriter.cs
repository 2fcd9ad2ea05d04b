namespace Broker.GrpcTransport;

/// <summary>A stream of messages written one at a time, as Grpc.Core's <c>IAsyncStreamWriter&lt;T&gt;</c>.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>
    /// Options for the following writes. With <see cref="WriteFlags.BufferHint"/> a write is buffered and not
    /// flushed, so several messages can go out in one flush: the next write without the flag (or the end of the
    /// call) flushes them all.
    /// </summary>
    WriteOptions? WriteOptions { get; set; }

    /// <summary>Writes a message. Only one write may be pending at a time.</summary>
    Task WriteAsync(T message);

    /// <summary>Writes a message; <paramref name="cancellationToken"/> cancels a write blocked by flow control.</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken);
}
