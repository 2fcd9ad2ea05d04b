using Broker.Engines;
namespace Broker.Core;

/// <summary>What a subscribe found: the position the subscriber now stands at, and whether its <c>since</c> was recovered.</summary>
/// <param name="Position">The channel's position at subscribe time: live delivery continues after it.</param>
/// <param name="Recovered">True when a <c>since</c> was given and every publication after it is replayed.</param>
public readonly record struct SubscribeResult(StreamPosition Position, bool Recovered);
