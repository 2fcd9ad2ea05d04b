namespace Broker.Diagnostics;

/// <summary>Which limit refused a client; the <c>limit</c> tag of <c>broker.limits.refused</c>.</summary>
public enum LimitKind
{
    /// <summary><c>Broker:WebSocket:MaxConnections</c>: the node's connections in all.</summary>
    Connections,

    /// <summary><c>Broker:WebSocket:MaxConnectionsPerIp</c>: one client address's connections.</summary>
    ConnectionsPerIp,

    /// <summary><c>Broker:WebSocket:MaxFailedHellos</c>: one client address's refused <c>hello</c>s (ticket guessing).</summary>
    FailedHellos,

    /// <summary><c>Broker:MaxQueuedBytes</c>: the bytes queued for all subscribers of the node.</summary>
    QueuedBytes,

    /// <summary><c>Broker:Sessions:MaxCount</c>: the sessions a store holds.</summary>
    Sessions,

    /// <summary><c>Broker:Tickets:MaxOutstanding</c>: the issued, unused tickets the in-memory store holds.</summary>
    Tickets,

    /// <summary><c>Broker:Grpc:MaxSubscriptionsPerStream</c>: the entries of one gRPC <c>Subscribe</c>.</summary>
    GrpcSubscriptions,

    /// <summary><c>Broker:Grpc:MaxHandlerEvents</c>: the event names and prefixes of one <c>Handle</c> registration.</summary>
    HandlerEvents,

    /// <summary>One registration per <c>Handle</c> stream (PROTOCOL.md: <c>register</c> is its first message): a second one.</summary>
    HandlerRegistrations,
}
