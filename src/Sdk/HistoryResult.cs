namespace Broker.Sdk;

/// <summary>A page of a channel's history, from <see cref="BrokerClient.HistoryAsync"/>.</summary>
/// <param name="Publications">The publications, oldest first.</param>
/// <param name="Position">The channel's current position (epoch and newest offset).</param>
/// <param name="Recovered">With a <c>since</c>: whether that position was still in history (false: publications were lost).</param>
public sealed record HistoryResult(IReadOnlyList<Publication> Publications, StreamPosition Position, bool Recovered);
