
namespace Broker.Engines;

/// <summary>What to read from a channel's history.</summary>
/// <param name="Since">
/// Read the publications after this position. Null: the last <paramref name="Limit"/> publications.
/// </param>
/// <param name="Limit">At most this many publications; null for all that are kept; 0 for none (position only).</param>
public readonly record struct HistoryQuery(StreamPosition? Since, int? Limit)
{
    /// <summary>Reads only the channel's current position.</summary>
    public static HistoryQuery PositionOnly => new(null, 0);

    /// <summary>Reads every kept publication after <paramref name="since"/>: a subscriber's recovery.</summary>
    public static HistoryQuery After(StreamPosition since) => new(since, null);
}
