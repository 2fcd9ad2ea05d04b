namespace Broker.Core;

/// <summary>
/// The consumer side's hooks into a <see cref="SubscriberQueue"/>. Called on the publisher's thread,
/// inside fan-out: implementations must be quick and must never block or throw.
/// </summary>
public interface ISubscriberQueueListener
{
    /// <summary>
    /// A message was queued. A consumer that drains many queues from one loop (a WebSocket connection
    /// with one queue per channel) wakes its loop here.
    /// </summary>
    void OnQueued(SubscriberQueue queue);

    /// <summary>
    /// A <see cref="OverflowPolicy.Disconnect"/> queue was full: it is completed, and the consumer must
    /// close as a slow consumer. Called once per queue.
    /// </summary>
    void OnOverflow(SubscriberQueue queue);
}
