using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>Starts calls of the four shapes, as Grpc.Core's <c>CallInvoker</c>.</summary>
public abstract class CallInvoker
{
    /// <summary>Starts a unary call.</summary>
    public abstract AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    /// <summary>Starts a client-streaming call.</summary>
    public abstract AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    /// <summary>Starts a server-streaming call.</summary>
    public abstract AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    /// <summary>Starts a bidirectional-streaming call.</summary>
    public abstract AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;
}
