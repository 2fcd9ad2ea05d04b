using Broker.Core;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>One channel a socket is subscribed to: its feed (the core yields what to write), and whether it is personal.</summary>
/// <param name="Feed">What the socket's writer reads for the channel.</param>
/// <param name="Personal">A <c>$session:</c> or <c>$user:</c> channel: not counted in MaxSubscriptions, never unsubscribed by the client.</param>
internal sealed record ConnectionSubscription(SubscriptionFeed Feed, bool Personal);
