namespace Broker.Sessions;

/// <summary>
/// Settings of HTTP sessions, tickets and the same-origin rule, bound from the <c>Broker</c> configuration
/// section (PROTOCOL.md, "Other settings") and validated when the broker starts.
/// </summary>
/// <remarks>
/// Named <c>BrokerSessionOptions</c>, not <c>SessionOptions</c>, so it never collides with ASP.NET Core's
/// own <c>Microsoft.AspNetCore.Builder.SessionOptions</c> in a file that imports both namespaces.
/// </remarks>
public sealed class BrokerSessionOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Broker";

    /// <summary>
    /// <c>Broker:AllowAnonymous</c>: whether a WebSocket <c>hello</c> with neither a ticket nor a session
    /// cookie gets a fresh session with no user instead of <c>unauthorized</c>. Default <see langword="false"/>.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// <c>Broker:AllowedOrigins</c>: the origins (<c>scheme://host[:port]</c>, no path) whose pages may call
    /// <c>POST /session</c>, <c>POST /tickets</c> and open <c>/ws</c>. Default: empty, which means only the
    /// request's own scheme, host and port; when set, the list replaces that default.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary><c>Broker:Sessions</c>: how long sessions live and how many are kept.</summary>
    public SessionStoreOptions Sessions { get; set; } = new();

    /// <summary><c>Broker:Tickets</c>: the one-time WebSocket tickets.</summary>
    public TicketOptions Tickets { get; set; } = new();
}
