using Broker.GrpcTransport;

namespace Broker.V1;

/// <summary>
/// The <c>broker.v1.Broker</c> service's methods (PROTOCOL.md, "gRPC transport"): what Grpc.Tools would
/// generate with <c>GrpcServices="Both"</c>, written by hand because the project's own transport stands in
/// for Grpc.Core. The broker's service and the SDK's client both use these, so the names exist once.
/// </summary>
public static class BrokerMethods
{
    /// <summary>The service's full name.</summary>
    public const string ServiceName = "broker.v1.Broker";

    /// <summary><c>rpc Publish(PublishRequest) returns (PublishReply)</c>.</summary>
    public static readonly Method<PublishRequest, PublishReply> Publish =
        new(MethodType.Unary, ServiceName, "Publish", PublishRequest.Parser, PublishReply.Parser);

    /// <summary><c>rpc PublishStream(stream PublishRequest) returns (stream PublishReply)</c>.</summary>
    public static readonly Method<PublishRequest, PublishReply> PublishStream =
        new(MethodType.DuplexStreaming, ServiceName, "PublishStream", PublishRequest.Parser, PublishReply.Parser);

    /// <summary><c>rpc Subscribe(SubscribeRequest) returns (stream Delivery)</c>.</summary>
    public static readonly Method<SubscribeRequest, Delivery> Subscribe =
        new(MethodType.ServerStreaming, ServiceName, "Subscribe", SubscribeRequest.Parser, Delivery.Parser);

    /// <summary><c>rpc Handle(stream HandlerMessage) returns (stream HandlerEvent)</c>.</summary>
    public static readonly Method<HandlerMessage, HandlerEvent> Handle =
        new(MethodType.DuplexStreaming, ServiceName, "Handle", HandlerMessage.Parser, HandlerEvent.Parser);

    /// <summary><c>rpc IssueTicket(IssueTicketRequest) returns (IssueTicketReply)</c>.</summary>
    public static readonly Method<IssueTicketRequest, IssueTicketReply> IssueTicket =
        new(MethodType.Unary, ServiceName, "IssueTicket", IssueTicketRequest.Parser, IssueTicketReply.Parser);

    /// <summary><c>rpc Disconnect(DisconnectRequest) returns (DisconnectReply)</c>.</summary>
    public static readonly Method<DisconnectRequest, DisconnectReply> Disconnect =
        new(MethodType.Unary, ServiceName, "Disconnect", DisconnectRequest.Parser, DisconnectReply.Parser);

    /// <summary><c>rpc History(HistoryRequest) returns (HistoryReply)</c>.</summary>
    public static readonly Method<HistoryRequest, HistoryReply> History =
        new(MethodType.Unary, ServiceName, "History", HistoryRequest.Parser, HistoryReply.Parser);

    /// <summary><c>rpc Presence(PresenceRequest) returns (PresenceReply)</c>.</summary>
    public static readonly Method<PresenceRequest, PresenceReply> Presence =
        new(MethodType.Unary, ServiceName, "Presence", PresenceRequest.Parser, PresenceReply.Parser);
}
