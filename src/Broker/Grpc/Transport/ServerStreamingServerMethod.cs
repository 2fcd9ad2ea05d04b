using Broker.GrpcTransport;

namespace Broker.Grpc.Transport;

/// <summary>Handles a server-streaming call, as Grpc.Core's <c>ServerStreamingServerMethod</c>.</summary>
public delegate Task ServerStreamingServerMethod<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context)
    where TRequest : class
    where TResponse : class;
