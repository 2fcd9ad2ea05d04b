namespace Broker.Engines.Redis.Internal;

/// <summary>The Redis engine's log events: ids 8000-8099.</summary>
internal static partial class RedisEngineLog
{
    [LoggerMessage(EventId = 8000, EventName = "RedisConnected", Level = LogLevel.Information, Message = "Redis engine connected to {Endpoints} as node {Node}, prefix '{Prefix}'.")]
    public static partial void Connected(ILogger logger, string endpoints, string node, string prefix);

    [LoggerMessage(EventId = 8001, EventName = "RedisUnreachableAtStart", Level = LogLevel.Warning, Message = "Redis at {Endpoints} is unreachable at start; the engine is unavailable and keeps trying.")]
    public static partial void UnreachableAtStart(ILogger logger, string endpoints, Exception exception);

    [LoggerMessage(EventId = 8002, EventName = "RedisConnectionLost", Level = LogLevel.Warning, Message = "Lost the Redis {ConnectionType} connection to {EndPoint}: {FailureType}.")]
    public static partial void ConnectionLost(ILogger logger, StackExchange.Redis.ConnectionType connectionType, System.Net.EndPoint? endPoint, StackExchange.Redis.ConnectionFailureType failureType);

    [LoggerMessage(EventId = 8003, EventName = "RedisConnectionRestored", Level = LogLevel.Information, Message = "Restored the Redis {ConnectionType} connection to {EndPoint}.")]
    public static partial void ConnectionRestored(ILogger logger, StackExchange.Redis.ConnectionType connectionType, System.Net.EndPoint? endPoint);

    [LoggerMessage(EventId = 8004, EventName = "RedisUnhealthy", Level = LogLevel.Warning, Message = "Redis engine unavailable: no liveness probe came back for {ElapsedMs} ms.")]
    public static partial void Unhealthy(ILogger logger, long elapsedMs);

    [LoggerMessage(EventId = 8005, EventName = "RedisHealthy", Level = LogLevel.Information, Message = "Redis engine available again; catching up {Channels} channels from history.")]
    public static partial void Healthy(ILogger logger, int channels);

    [LoggerMessage(EventId = 8006, EventName = "RedisGapFilled", Level = LogLevel.Debug, Message = "Filled {Count} publications of {Channel} after offset {Offset} from history.")]
    public static partial void GapFilled(ILogger logger, string channel, int count, ulong offset);

    [LoggerMessage(EventId = 8007, EventName = "RedisGapNotFilled", Level = LogLevel.Debug, Message = "Could not fill the gap of {Channel} after offset {Offset}; delivery jumps.")]
    public static partial void GapNotFilled(ILogger logger, string channel, ulong offset, Exception? exception);

    [LoggerMessage(EventId = 8008, EventName = "RedisSubscriptionStalled", Level = LogLevel.Warning, Message = "The Redis pub/sub connection returned no probe while commands work; closing it (client id {ClientId}) so that it reconnects.")]
    public static partial void SubscriptionStalled(ILogger logger, long clientId);

    [LoggerMessage(EventId = 8009, EventName = "RedisNodeExpired", Level = LogLevel.Information, Message = "Node {DeadNode} missed its heartbeats: removed its presence from {Channels} channels.")]
    public static partial void NodeExpired(ILogger logger, string deadNode, int channels);

    [LoggerMessage(EventId = 8010, EventName = "RedisNodeReregistered", Level = LogLevel.Warning, Message = "This node was taken for dead as {OldNode}; registered again as {Node} and restored its presence in {Channels} channels.")]
    public static partial void NodeReregistered(ILogger logger, string oldNode, string node, int channels);

    [LoggerMessage(EventId = 8011, EventName = "RedisDeliveryFailed", Level = LogLevel.Error, Message = "Delivering a message of {Channel} failed.")]
    public static partial void DeliveryFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 8012, EventName = "RedisHeartbeatFailed", Level = LogLevel.Debug, Message = "The node heartbeat or presence sweep failed.")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8013, EventName = "RedisMalformedFrame", Level = LogLevel.Warning, Message = "Dropped a malformed pub/sub message on {PubSubChannel}.")]
    public static partial void MalformedFrame(ILogger logger, string pubSubChannel);

    [LoggerMessage(EventId = 8014, EventName = "RedisControlFailed", Level = LogLevel.Error, Message = "Handling a control message from node {FromNode} failed.")]
    public static partial void ControlFailed(ILogger logger, string fromNode, Exception exception);

    [LoggerMessage(EventId = 8015, EventName = "RedisEpochChanged", Level = LogLevel.Warning, Message = "Channel {Channel} lost its numbering in Redis: epoch {OldEpoch} is now {Epoch}, live delivery continues after offset {Offset}.")]
    public static partial void EpochChanged(ILogger logger, string channel, string oldEpoch, string epoch, ulong offset);

    [LoggerMessage(EventId = 8016, EventName = "RedisLeaveDeferred", Level = LogLevel.Information, Message = "A presence leave of {Channel} could not reach Redis; it is applied when Redis is back.")]
    public static partial void LeaveDeferred(ILogger logger, string channel);
}
