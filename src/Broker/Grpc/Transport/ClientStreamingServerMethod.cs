using Broker.GrpcTransport;

namespace Broker.Grpc.Transport;

/// <summary>Handles a client-streaming call, as Grpc.Core's <c>ClientStreamingServerMethod</c>.</summary>
public delegate Task<TResponse> ClientStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context)
    where TRequest : class
    where TResponse : class;
