using Broker.GrpcTransport;

namespace Broker.Grpc.Transport;

/// <summary>Options of the gRPC server transport.</summary>
public sealed class GrpcTransportOptions
{
    /// <summary>
    /// The largest request message accepted, in bytes; a larger one fails the call with RESOURCE_EXHAUSTED.
    /// Default: 4 MiB (4,194,304), the gRPC default and the limit PROTOCOL.md states.
    /// </summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>
    /// The largest response message sent, in bytes; a larger one fails the call with RESOURCE_EXHAUSTED.
    /// Default: <see cref="int.MaxValue"/> (unlimited), as in grpc-core.
    /// </summary>
    public int MaxSendMessageSize { get; set; } = int.MaxValue;
}
