using System.Net;

namespace Broker.Sessions;

/// <summary>An issued ticket as an <see cref="ITicketStore"/> keeps it: what it grants and the address it is bound to.</summary>
/// <param name="Grant">What the ticket grants, its expiry included.</param>
/// <param name="BoundIp">The only address the ticket may be used from (IPv4-mapped addresses already in IPv4 form), or <see langword="null"/> for any.</param>
public sealed record TicketEntry(TicketGrant Grant, IPAddress? BoundIp);
