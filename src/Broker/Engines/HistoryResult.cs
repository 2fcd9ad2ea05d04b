
namespace Broker.Engines;

/// <summary>A read of a channel's history.</summary>
/// <param name="Publications">Oldest first.</param>
/// <param name="Position">The channel's current position (its newest offset) when the read was made.</param>
/// <param name="Recovered">
/// True when the query had a <c>Since</c> in the current epoch and every publication after it is still
/// kept (or none was made since), so <paramref name="Publications"/> continue it with no gap.
/// </param>
public sealed record HistoryResult(IReadOnlyList<Publication> Publications, StreamPosition Position, bool Recovered);
