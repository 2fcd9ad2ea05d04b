using Google.Protobuf;

namespace Broker.GrpcTransport;

/// <summary>
/// Describes one method of a service, as Grpc.Core's <c>Method&lt;TRequest, TResponse&gt;</c> does; the
/// marshallers are Google.Protobuf parsers because every message of ours is a protobuf message.
/// </summary>
/// <typeparam name="TRequest">The request message type.</typeparam>
/// <typeparam name="TResponse">The response message type.</typeparam>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    /// <summary>Creates a method descriptor.</summary>
    /// <param name="type">The call shape.</param>
    /// <param name="serviceName">The fully qualified service name, e.g. <c>broker.v1.Broker</c>.</param>
    /// <param name="name">The method name, e.g. <c>Publish</c>.</param>
    /// <param name="requestParser">Parses request messages.</param>
    /// <param name="responseParser">Parses response messages.</param>
    public Method(MethodType type, string serviceName, string name, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(requestParser);
        ArgumentNullException.ThrowIfNull(responseParser);
        Type = type;
        ServiceName = serviceName;
        Name = name;
        RequestParser = requestParser;
        ResponseParser = responseParser;
        // Built once: the client sends it as the :path of every call.
        FullName = "/" + serviceName + "/" + name;
    }

    /// <summary>The call shape.</summary>
    public MethodType Type { get; }

    /// <summary>The fully qualified service name.</summary>
    public string ServiceName { get; }

    /// <summary>The method name.</summary>
    public string Name { get; }

    /// <summary>The HTTP/2 <c>:path</c> of the method: <c>/{ServiceName}/{Name}</c>.</summary>
    public string FullName { get; }

    /// <summary>Parses request messages.</summary>
    public MessageParser<TRequest> RequestParser { get; }

    /// <summary>Parses response messages.</summary>
    public MessageParser<TResponse> ResponseParser { get; }
}
