using Broker.GrpcTransport;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Broker.Grpc.Transport;

/// <summary>
/// A service's methods and their handlers, as Grpc.Core's <c>ServerServiceDefinition</c>: build one with
/// <see cref="CreateBuilder"/>, then register it with <c>AddGrpcTransportService</c>.
/// </summary>
public sealed class ServerServiceDefinition
{
    private ServerServiceDefinition(IReadOnlyList<MethodEntry> methods)
    {
        Methods = methods;
    }

    internal IReadOnlyList<MethodEntry> Methods { get; }

    /// <summary>Starts a definition.</summary>
    public static Builder CreateBuilder() => new();

    /// <summary>One method: its names and how to create its handler once options and logger are known.</summary>
    internal sealed record MethodEntry(string ServiceName, string Name, string FullName, Func<GrpcTransportOptions, ILogger, ServerCallHandler> CreateHandler);

    /// <summary>Collects the methods of a <see cref="ServerServiceDefinition"/>.</summary>
    public sealed class Builder
    {
        private readonly List<MethodEntry> _methods = [];
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        internal Builder()
        {
        }

        /// <summary>Adds a unary method.</summary>
        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.Unary, handler);

        /// <summary>Adds a client-streaming method.</summary>
        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.ClientStreaming, handler);

        /// <summary>Adds a server-streaming method.</summary>
        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.ServerStreaming, handler);

        /// <summary>Adds a bidirectional-streaming method.</summary>
        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.DuplexStreaming, handler);

        /// <summary>Builds the definition.</summary>
        public ServerServiceDefinition Build() => new(_methods.ToArray());

        private Builder Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, Delegate handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
        {
            ArgumentNullException.ThrowIfNull(method);
            ArgumentNullException.ThrowIfNull(handler);
            if (method.Type != expected)
            {
                throw new ArgumentException($"Method '{method.FullName}' is {method.Type} but the handler is {expected}.", nameof(handler));
            }

            if (!_names.Add(method.FullName))
            {
                throw new ArgumentException($"Method '{method.FullName}' is already added.", nameof(method));
            }

            _methods.Add(new MethodEntry(
                method.ServiceName,
                method.Name,
                method.FullName,
                (options, logger) => new MethodCallHandler<TRequest, TResponse>(method, handler, options, logger)));
            return this;
        }
    }
}
