using Microsoft.Extensions.Logging;

// Lists are passed as they are: the logging formatter joins them with commas only when the event is written.

namespace Broker.Grpc.Internal;

/// <summary>The backend service's log events (ids 5000-5099).</summary>
internal static partial class GrpcServiceLog
{
    [LoggerMessage(EventId = 5000, EventName = "LoopbackOnly", Level = LogLevel.Warning, Message = "No gRPC API key is configured (Broker:Grpc:ApiKeys): gRPC calls are served from loopback only.")]
    public static partial void LoopbackOnly(ILogger logger);

    [LoggerMessage(EventId = 5001, EventName = "HandlerRegistered", Level = LogLevel.Debug, Message = "Handler {HandlerId} of group {Group} registered for {Events}")]
    public static partial void HandlerRegistered(ILogger logger, string handlerId, string group, IEnumerable<string> events);

    [LoggerMessage(EventId = 5002, EventName = "HandlerGone", Level = LogLevel.Debug, Message = "Handler {HandlerId} of group {Group} went away")]
    public static partial void HandlerGone(ILogger logger, string handlerId, string group);

    [LoggerMessage(EventId = 5003, EventName = "SubscribeStreamEnded", Level = LogLevel.Debug, Message = "A Subscribe stream of {Channels} ended")]
    public static partial void SubscribeStreamEnded(ILogger logger, IEnumerable<string> channels);
}
