using Broker.GrpcTransport;

namespace Broker.Grpc.Transport;

/// <summary>Handles a unary call, as Grpc.Core's <c>UnaryServerMethod</c>.</summary>
public delegate Task<TResponse> UnaryServerMethod<TRequest, TResponse>(TRequest request, ServerCallContext context)
    where TRequest : class
    where TResponse : class;
