using Broker.Engines;

namespace Broker.Core;

/// <summary>
/// The answer to one subscribe entry, which a feed yields before any of the entry's publications
/// (PROTOCOL.md: WebSocket <c>subscribed</c>, gRPC <c>Subscribed</c>).
/// </summary>
/// <param name="Channel">The channel, or the prefix entry (<c>chat:*</c>) as it was asked for.</param>
/// <param name="Position">Where live delivery continues; null for a prefix entry.</param>
/// <param name="Recovered">True when a <c>since</c> was given and every publication after it is replayed next.</param>
/// <param name="Personal">A browser's own <c>$session:</c>/<c>$user:</c> channel, which <c>welcome</c> lists instead.</param>
public sealed record SubscriptionStart(string Channel, StreamPosition? Position, bool Recovered, bool Personal = false);
