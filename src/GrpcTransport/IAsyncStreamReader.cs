namespace Broker.GrpcTransport;

/// <summary>A stream of messages read one at a time, as Grpc.Core's <c>IAsyncStreamReader&lt;T&gt;</c>.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamReader<out T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>
    /// Reads the next message. True when <see cref="Current"/> holds one; false at the end of the stream.
    /// Throws <see cref="RpcException"/> when the call ends with a non-OK status. Not safe to call concurrently.
    /// </summary>
    Task<bool> MoveNext(CancellationToken cancellationToken);
}
