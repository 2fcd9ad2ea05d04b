using System.Collections.Concurrent;

namespace Broker.Sessions;

/// <summary>
/// The default <see cref="ITicketStore"/>: tickets in a <see cref="ConcurrentDictionary{TKey,TValue}"/> of this
/// process. A single <c>TryRemove</c> takes a ticket, which exactly one of any number of racing callers wins.
/// Nothing expires by itself: <see cref="TicketService"/> sweeps with <see cref="PurgeExpired"/>.
/// </summary>
public sealed class InMemoryTicketStore : ITicketStore
{
    // Ordinal: tickets are random ASCII, culture rules would only cost time.
    private readonly ConcurrentDictionary<string, TicketEntry> _tickets = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public int? Count => _tickets.Count;

    /// <inheritdoc />
    public bool TryAdd(string ticket, TicketEntry entry, TimeSpan ttl) => _tickets.TryAdd(ticket, entry);

    /// <inheritdoc />
    public ValueTask<bool> TryAddAsync(string ticket, TicketEntry entry, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_tickets.TryAdd(ticket, entry));

    /// <inheritdoc />
    public TicketEntry? TryTake(string ticket) => _tickets.TryRemove(ticket, out var entry) ? entry : null;

    /// <inheritdoc />
    public ValueTask<TicketEntry?> TryTakeAsync(string ticket, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryTake(ticket));

    /// <inheritdoc />
    public int PurgeExpired(DateTimeOffset now)
    {
        var removed = 0;
        // Enumerating a ConcurrentDictionary is safe during writes; removing by key-and-value leaves alone an
        // entry that a racing take has already removed.
        foreach (var pair in _tickets)
        {
            if (now >= pair.Value.Grant.ExpiresAt && _tickets.TryRemove(pair))
            {
                removed++;
            }
        }

        return removed;
    }
}
