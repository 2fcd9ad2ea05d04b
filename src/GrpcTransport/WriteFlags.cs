namespace Broker.GrpcTransport;

/// <summary>Per-write flags, as Grpc.Core's <c>WriteFlags</c>.</summary>
[Flags]
public enum WriteFlags
{
    /// <summary>No flags: the write is flushed.</summary>
    None = 0,

    /// <summary>Buffer the message; a later write without the flag, or the end of the call, flushes it.</summary>
    BufferHint = 0x1,

    /// <summary>Do not compress the message (always true here: only identity is implemented).</summary>
    NoCompress = 0x2,
}
