using Grpc.Core;

namespace Broker.V1;

/// <summary>
/// The <c>broker.v1.Broker</c> service's methods (PROTOCOL.md, "gRPC transport") as Grpc.Core.Api descriptors:
/// what Grpc.Tools generates with <c>GrpcServices="Both"</c>, plus <see cref="SubscribeEncoded"/>, the server's
/// view of <c>Subscribe</c>. The broker's service and the SDK's client both use these, so the names exist once.
/// </summary>
public static class BrokerMethods
{
    /// <summary>The service's full name.</summary>
    public const string ServiceName = "broker.v1.Broker";

    /// <summary><c>rpc Publish(PublishRequest) returns (PublishReply)</c>.</summary>
    public static readonly Method<PublishRequest, PublishReply> Publish =
        new(MethodType.Unary, ServiceName, "Publish", ProtobufMarshaller.For(PublishRequest.Parser), ProtobufMarshaller.For(PublishReply.Parser));

    /// <summary><c>rpc PublishStream(stream PublishRequest) returns (stream PublishReply)</c>.</summary>
    public static readonly Method<PublishRequest, PublishReply> PublishStream =
        new(MethodType.DuplexStreaming, ServiceName, "PublishStream", Publish.RequestMarshaller, Publish.ResponseMarshaller);

    /// <summary><c>rpc Subscribe(SubscribeRequest) returns (stream Delivery)</c>, as a client reads it.</summary>
    public static readonly Method<SubscribeRequest, Delivery> Subscribe =
        new(MethodType.ServerStreaming, ServiceName, "Subscribe", ProtobufMarshaller.For(SubscribeRequest.Parser), ProtobufMarshaller.For(Delivery.Parser));

    /// <summary>
    /// <c>Subscribe</c> as the broker writes it: each response is a <c>Delivery</c> already serialized (a
    /// publication's bytes are encoded once and shared by every stream), written as is. The same wire as
    /// <see cref="Subscribe"/>; a client cannot tell them apart.
    /// </summary>
    public static readonly Method<SubscribeRequest, byte[]> SubscribeEncoded =
        new(MethodType.ServerStreaming, ServiceName, "Subscribe", Subscribe.RequestMarshaller, ProtobufMarshaller.PreEncoded);

    /// <summary><c>rpc Handle(stream HandlerMessage) returns (stream HandlerEvent)</c>.</summary>
    public static readonly Method<HandlerMessage, HandlerEvent> Handle =
        new(MethodType.DuplexStreaming, ServiceName, "Handle", ProtobufMarshaller.For(HandlerMessage.Parser), ProtobufMarshaller.For(HandlerEvent.Parser));

    /// <summary><c>rpc IssueTicket(IssueTicketRequest) returns (IssueTicketReply)</c>.</summary>
    public static readonly Method<IssueTicketRequest, IssueTicketReply> IssueTicket =
        new(MethodType.Unary, ServiceName, "IssueTicket", ProtobufMarshaller.For(IssueTicketRequest.Parser), ProtobufMarshaller.For(IssueTicketReply.Parser));

    /// <summary><c>rpc Disconnect(DisconnectRequest) returns (DisconnectReply)</c>.</summary>
    public static readonly Method<DisconnectRequest, DisconnectReply> Disconnect =
        new(MethodType.Unary, ServiceName, "Disconnect", ProtobufMarshaller.For(DisconnectRequest.Parser), ProtobufMarshaller.For(DisconnectReply.Parser));

    /// <summary><c>rpc History(HistoryRequest) returns (HistoryReply)</c>.</summary>
    public static readonly Method<HistoryRequest, HistoryReply> History =
        new(MethodType.Unary, ServiceName, "History", ProtobufMarshaller.For(HistoryRequest.Parser), ProtobufMarshaller.For(HistoryReply.Parser));

    /// <summary><c>rpc Presence(PresenceRequest) returns (PresenceReply)</c>.</summary>
    public static readonly Method<PresenceRequest, PresenceReply> Presence =
        new(MethodType.Unary, ServiceName, "Presence", ProtobufMarshaller.For(PresenceRequest.Parser), ProtobufMarshaller.For(PresenceReply.Parser));
}
