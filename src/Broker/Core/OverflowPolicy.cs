namespace Broker.Core;

/// <summary>What happens when a subscriber's queue is full (PROTOCOL.md, namespace setting <c>Overflow</c>).</summary>
public enum OverflowPolicy
{
    /// <summary>Drop the oldest queued message, count it, and tell the subscriber with a <c>lagged</c> notice.</summary>
    DropOldest,

    /// <summary>Close the subscriber as a slow consumer (WebSocket close 4001).</summary>
    Disconnect,
}
