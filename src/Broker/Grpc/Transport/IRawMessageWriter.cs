namespace Broker.Grpc.Transport;

/// <summary>
/// A server stream writer that also takes messages already serialized: the broker encodes a
/// publication's <c>Delivery</c> once and writes the same bytes to every subscriber's stream. A writer
/// from another gRPC stack (Grpc.AspNetCore) would not have this; callers fall back to messages.
/// </summary>
public interface IRawMessageWriter
{
    /// <summary>Writes one serialized message (without the 5-byte gRPC prefix, which this adds); flushes only when <paramref name="flush"/>.</summary>
    ValueTask WriteRawAsync(ReadOnlyMemory<byte> message, bool flush);

    /// <summary>Sends what buffered writes left in the response.</summary>
    ValueTask FlushAsync();
}
