namespace Broker.LoadTest.Soak;

/// <summary>How a slot's sockets say hello (PROTOCOL.md, "Authentication"); each slot keeps one for the whole soak.</summary>
internal enum SoakAuth
{
    /// <summary>No ticket, no cookie: the broker makes a session per socket (<c>Broker:AllowAnonymous</c>).</summary>
    Anonymous,

    /// <summary>The session cookie from <c>POST /session</c> on the upgrade, a ticketless <c>hello</c>; reconnects keep the session.</summary>
    Cookie,

    /// <summary>A one-time ticket from <c>POST /tickets</c> (with the slot's session cookie) in <c>hello</c>, a new one per connect.</summary>
    Ticket,
}
