namespace Broker.Core.Cluster;

/// <summary>Log events of the node-to-node control path (8100–8199).</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 8100, EventName = "ClusterNodeUnanswered", Level = LogLevel.Warning, Message = "Node {Node} did not answer a '{Operation}' request in time; its part is not counted.")]
    public static partial void NodeUnanswered(ILogger logger, string node, string operation);

    [LoggerMessage(EventId = 8101, EventName = "ClusterMalformedControl", Level = LogLevel.Warning, Message = "Dropped a malformed control message from node {Node}.")]
    public static partial void Malformed(ILogger logger, string node, Exception? exception);

    [LoggerMessage(EventId = 8102, EventName = "ClusterNodeGone", Level = LogLevel.Information, Message = "Node {Node} is gone: its {Handlers} handlers left this node's table.")]
    public static partial void NodeGone(ILogger logger, string node, int handlers);

    [LoggerMessage(EventId = 8103, EventName = "ClusterSendFailed", Level = LogLevel.Debug, Message = "A control message to node {Node} could not be sent.")]
    public static partial void SendFailed(ILogger logger, string node, Exception exception);

    [LoggerMessage(EventId = 8104, EventName = "ClusterControlFailed", Level = LogLevel.Error, Message = "Handling a '{Type}' control message from node {Node} failed.")]
    public static partial void ControlFailed(ILogger logger, string node, string? type, Exception exception);
}
