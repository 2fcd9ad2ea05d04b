using Broker.Core;

namespace Broker.WebSockets;

/// <summary>
/// One channel a socket is subscribed to: the hub's <see cref="Core.Subscription"/> with its own queue,
/// and the writer's cursor over the channel's offsets, from which <c>lagged</c> is told.
/// </summary>
internal sealed class ConnectionSubscription(Subscription subscription, NamespacePolicy policy, bool personal)
{
    public Subscription Subscription { get; } = subscription;

    public NamespacePolicy Policy { get; } = policy;

    /// <summary>A <c>$session:</c> or <c>$user:</c> channel: not counted in MaxSubscriptions, never unsubscribed by the client.</summary>
    public bool Personal { get; } = personal;

    public string Channel => Subscription.Channel;

    public SubscriberQueue Queue => Subscription.Queue;

    /// <summary>Only the writer loop touches the cursor, once it is live.</summary>
    public DeliveryCursor Cursor;
}
