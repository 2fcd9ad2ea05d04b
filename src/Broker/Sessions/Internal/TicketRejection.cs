using Broker.Sessions;
namespace Broker.Sessions.Internal;

/// <summary>Why <see cref="TicketService.TryConsume"/> refused a ticket; logged, never shown to the client.</summary>
internal enum TicketRejection
{
    /// <summary>Never issued, already used, already purged, or not ticket-shaped.</summary>
    Unknown,

    /// <summary>Presented after its expiry.</summary>
    Expired,

    /// <summary>Bound to a client IP and presented from another.</summary>
    WrongClientIp,
}
