namespace Broker.GrpcTransport;

/// <summary>Options for stream writes, as Grpc.Core's <c>WriteOptions</c>.</summary>
public sealed class WriteOptions
{
    /// <summary>Flush every write: the default.</summary>
    public static readonly WriteOptions Default = new();

    /// <summary>Buffer writes until a write without the hint: write several, flush once.</summary>
    public static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary>Creates options with the flags.</summary>
    public WriteOptions(WriteFlags flags = WriteFlags.None)
    {
        Flags = flags;
    }

    /// <summary>The flags.</summary>
    public WriteFlags Flags { get; }
}
