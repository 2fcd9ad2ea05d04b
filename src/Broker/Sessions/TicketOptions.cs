namespace Broker.Sessions;

/// <summary>Settings of one-time WebSocket tickets, the <c>Broker:Tickets</c> configuration section.</summary>
public sealed class TicketOptions
{
    /// <summary>The default of <see cref="Ttl"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>Broker:Tickets:Ttl</c>: how long a ticket stays valid after it is issued, a TimeSpan
    /// (<c>hh:mm:ss</c>); must be positive. Default <c>00:00:30</c>.
    /// </summary>
    public TimeSpan Ttl { get; set; } = DefaultTtl;

    /// <summary>
    /// <c>Broker:Tickets:BindToIp</c>: whether a ticket minted by <c>POST /tickets</c> may only be used from
    /// the IP address that asked for it. Default <see langword="true"/>. Tickets minted over gRPC are bound
    /// when, and only when, the backend names a client IP.
    /// </summary>
    public bool BindToIp { get; set; } = true;

    /// <summary>
    /// <c>Broker:Tickets:MaxOutstanding</c>: the most issued, unused tickets the in-memory ticket store holds; past it
    /// (after a sweep of the expired ones) <c>POST /tickets</c> answers 503 <c>limit_exceeded</c> and <c>IssueTicket</c>
    /// is refused, until tickets are used or expire. Default 100000: a page asks for one ticket per connect, so this
    /// is a hundred thousand connects within one TTL; it bounds what a loop of <c>POST /tickets</c> can make the
    /// process hold (about 33 MB: 333 bytes a ticket, measured over 100,000). The Redis store is bounded by its keys' expiry instead.
    /// </summary>
    public int MaxOutstanding { get; set; } = 100_000;
}
