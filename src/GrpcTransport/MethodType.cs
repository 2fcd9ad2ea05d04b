namespace Broker.GrpcTransport;

/// <summary>The four call shapes of gRPC.</summary>
public enum MethodType
{
    /// <summary>One request, one response.</summary>
    Unary = 0,

    /// <summary>A stream of requests, one response.</summary>
    ClientStreaming = 1,

    /// <summary>One request, a stream of responses.</summary>
    ServerStreaming = 2,

    /// <summary>A stream of requests and a stream of responses, in both directions at once.</summary>
    DuplexStreaming = 3,
}
