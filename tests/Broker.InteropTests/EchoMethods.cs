using Broker.V1;
using Grpc.Core;
using Interop.V1;

namespace Broker.InteropTests;

/// <summary>Descriptors of the test Echo service, for calls through a bare <see cref="CallInvoker"/>.</summary>
public static class EchoMethods
{
    public const string ServiceName = "interop.v1.Echo";

    public static readonly Method<EchoRequest, EchoReply> Unary = Create(MethodType.Unary, "Unary");

    public static readonly Method<EchoRequest, EchoReply> ClientStream = Create(MethodType.ClientStreaming, "ClientStream");

    public static readonly Method<EchoRequest, EchoReply> ServerStream = Create(MethodType.ServerStreaming, "ServerStream");

    public static readonly Method<EchoRequest, EchoReply> Bidi = Create(MethodType.DuplexStreaming, "Bidi");

    /// <summary>A method of the Echo messages by any name, e.g. one the server does not have.</summary>
    public static Method<EchoRequest, EchoReply> Create(MethodType type, string name, string service = ServiceName) =>
        new(type, service, name, ProtobufMarshaller.For(EchoRequest.Parser), ProtobufMarshaller.For(EchoReply.Parser));
}
