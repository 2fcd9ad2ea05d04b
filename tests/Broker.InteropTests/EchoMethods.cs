using Broker.GrpcTransport;
using Interop.V1;

namespace Broker.InteropTests;

/// <summary>Descriptors of the test Echo service, as generated code would declare them.</summary>
public static class EchoMethods
{
    public const string ServiceName = "interop.v1.Echo";

    public static readonly Method<EchoRequest, EchoReply> Unary = new(MethodType.Unary, ServiceName, "Unary", EchoRequest.Parser, EchoReply.Parser);

    public static readonly Method<EchoRequest, EchoReply> ClientStream = new(MethodType.ClientStreaming, ServiceName, "ClientStream", EchoRequest.Parser, EchoReply.Parser);

    public static readonly Method<EchoRequest, EchoReply> ServerStream = new(MethodType.ServerStreaming, ServiceName, "ServerStream", EchoRequest.Parser, EchoReply.Parser);

    public static readonly Method<EchoRequest, EchoReply> Bidi = new(MethodType.DuplexStreaming, ServiceName, "Bidi", EchoRequest.Parser, EchoReply.Parser);
}
