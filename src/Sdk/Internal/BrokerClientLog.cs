using Microsoft.Extensions.Logging;

namespace Broker.Sdk.Internal;

/// <summary>The SDK's log events (ids 100-199), under the category <c>Broker.Sdk.BrokerClient</c>.</summary>
internal static partial class BrokerClientLog
{
    [LoggerMessage(EventId = 100, EventName = "SubscriptionReconnecting", Level = LogLevel.Information, Message = "The subscription to {Channels} dropped; reconnecting in {Delay}")]
    public static partial void SubscriptionReconnecting(ILogger logger, IEnumerable<string> channels, TimeSpan delay, Exception? failure);

    [LoggerMessage(EventId = 101, EventName = "HandlerReconnecting", Level = LogLevel.Information, Message = "The handler stream of group {Group} dropped; reconnecting in {Delay}")]
    public static partial void HandlerReconnecting(ILogger logger, string group, TimeSpan delay, Exception? failure);

    [LoggerMessage(EventId = 102, EventName = "HandlerFailed", Level = LogLevel.Error, Message = "The handler of {Event} (group {Group}) threw; the browser is answered 'internal'")]
    public static partial void HandlerFailed(ILogger logger, string @event, string group, Exception error);

    [LoggerMessage(EventId = 103, EventName = "PublishStreamBroken", Level = LogLevel.Information, Message = "The publish stream broke with {Unanswered} publications unanswered; {Retried} are re-sent")]
    public static partial void PublishStreamBroken(ILogger logger, int unanswered, int retried, Exception? failure);

    [LoggerMessage(EventId = 104, EventName = "HandlerRegistered", Level = LogLevel.Debug, Message = "Handler {HandlerId} of group {Group} registered")]
    public static partial void HandlerRegistered(ILogger logger, string handlerId, string group);
}
