namespace Broker.Diagnostics;

/// <summary>Why a message never reached a subscriber; the <c>reason</c> tag of <c>broker.messages.dropped</c>.</summary>
public enum DropReason
{
    /// <summary>A <c>DropOldest</c> queue was full; the subscriber is told with <c>lagged</c>.</summary>
    Overflow,

    /// <summary>The subscriber was closed as too slow (a <c>Disconnect</c> queue was full, or a write timed out).</summary>
    SlowConsumer,

    /// <summary>The subscriber's connection closed with messages still queued.</summary>
    Closed,

    /// <summary>The broker shut down with messages still queued.</summary>
    Shutdown,
}
