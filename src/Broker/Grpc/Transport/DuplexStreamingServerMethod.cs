using Broker.GrpcTransport;

namespace Broker.Grpc.Transport;

/// <summary>Handles a bidirectional-streaming call, as Grpc.Core's <c>DuplexStreamingServerMethod</c>.</summary>
public delegate Task DuplexStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context)
    where TRequest : class
    where TResponse : class;
