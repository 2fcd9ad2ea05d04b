namespace Broker.Sessions;

/// <summary>
/// Where issued, unconsumed tickets live, keyed by the ticket text. The default, <see cref="InMemoryTicketStore"/>,
/// keeps them in the broker process; a cluster registers a shared one (before <c>AddBrokerSessions</c>, which
/// only adds the default when none is registered) so that a ticket issued on one node is consumed on any.
/// </summary>
/// <remarks>
/// <para>
/// Contract every implementation keeps: all members are safe to call concurrently, from any number of
/// processes sharing the store. <see cref="TryTake"/> is the single-use guarantee: it removes and returns the
/// entry in one atomic step, so of any number of racing takes of one ticket (on any node) exactly one gets the
/// entry and every other gets <see langword="null"/>. The store does not judge expiry or the client address:
/// <see cref="TicketService"/> checks those on the taken entry, so a ticket presented late or from the wrong
/// address is burnt too.
/// </para>
/// <para>
/// Ticket texts are bearer secrets: an implementation must not log them, and a store outside the process must
/// not keep them in clear (a digest of the text is enough to find the entry). The synchronous members exist for
/// callers that cannot await yet (<see cref="TicketService.TryConsume"/>); a remote store blocks them for one
/// round trip. A store whose backend cannot answer throws <see cref="SessionStoreUnavailableException"/> from any member,
/// never its backend's own exceptions.
/// </para>
/// </remarks>
public interface ITicketStore
{
    /// <summary>
    /// How many tickets the store holds, expired ones included until purged; <see langword="null"/> when it
    /// cannot count cheaply (a shared store).
    /// </summary>
    int? Count { get; }

    /// <summary>Adds a ticket unless one with the same text is already stored.</summary>
    /// <param name="ticket">The ticket text.</param>
    /// <param name="entry">What it grants.</param>
    /// <param name="ttl">How long it is valid; a store may forget it after that (the grant carries its own expiry).</param>
    /// <returns><see langword="false"/> when the text is already in use (the caller draws another).</returns>
    bool TryAdd(string ticket, TicketEntry entry, TimeSpan ttl);

    /// <inheritdoc cref="TryAdd"/>
    /// <param name="ticket">The ticket text.</param>
    /// <param name="entry">What it grants.</param>
    /// <param name="ttl">How long it is valid; a store may forget it after that (the grant carries its own expiry).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask<bool> TryAddAsync(string ticket, TicketEntry entry, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Removes a ticket and returns it, atomically: exactly one of any number of racing callers gets it.</summary>
    /// <param name="ticket">The ticket text.</param>
    /// <returns>The entry, or <see langword="null"/> when the store does not hold the ticket (never issued, taken, purged, expired).</returns>
    TicketEntry? TryTake(string ticket);

    /// <inheritdoc cref="TryTake"/>
    /// <param name="ticket">The ticket text.</param>
    /// <param name="cancellationToken">Cancels the call; a take that reached a remote store may have burnt the ticket.</param>
    ValueTask<TicketEntry?> TryTakeAsync(string ticket, CancellationToken cancellationToken = default);

    /// <summary>Removes every ticket whose grant expired at or before <paramref name="now"/>.</summary>
    /// <returns>How many were removed; 0 for a store whose entries expire by themselves.</returns>
    int PurgeExpired(DateTimeOffset now);
}
