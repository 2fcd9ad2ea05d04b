namespace Broker.Engines;

/// <summary>
/// How much of a channel's history an engine keeps, given with every publish (the namespace's
/// <c>HistorySize</c> and <c>HistoryTtl</c>, resolved by the core): the engine needs no namespace table.
/// </summary>
/// <param name="Size">Publications kept; 0 keeps none.</param>
/// <param name="Ttl">How long each is kept; also how long an idle channel's numbering outlives its last use.</param>
public readonly record struct HistoryOptions(int Size, TimeSpan Ttl)
{
    /// <summary>No history, and the default idle time of <c>HistoryTtl</c> (5 minutes, PROTOCOL.md).</summary>
    public static HistoryOptions None => new(0, TimeSpan.FromMinutes(5));
}
