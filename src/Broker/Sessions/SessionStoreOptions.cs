namespace Broker.Sessions;

/// <summary>
/// How long sessions live and how many a broker keeps, the <c>Broker:Sessions</c> configuration section
/// (docs/sessions.md, "Lifetime").
/// </summary>
/// <remarks>
/// The defaults follow ASP.NET Core's own session middleware (<c>SessionOptions.IdleTimeout</c>, 20 minutes)
/// and OWASP's session management guidance (an idle timeout of 15-30 minutes for ordinary applications, and an
/// absolute one that bounds how long a stolen cookie stays useful). A session with an open socket is in use:
/// it never goes idle, only its absolute lifetime ends it.
/// </remarks>
public sealed class SessionStoreOptions
{
    /// <summary>The default of <see cref="IdleTimeout"/>: 20 minutes, as ASP.NET Core session.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(20);

    /// <summary>The default of <see cref="Lifetime"/>: one day, a working day with room to spare.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// The default of <see cref="MaxCount"/>: 100,000 sessions, about 40 MB in the in-memory store (402 bytes a
    /// session with a cookie key, measured with <c>GC.GetTotalMemory</c> over 100,000 creates: the record, its ids,
    /// the entry and two dictionary slots), and ten times the 10,000 sockets the load test holds on one broker
    /// (docs/performance.md), since a session outlives its sockets by the idle timeout.
    /// </summary>
    public const int DefaultMaxCount = 100_000;

    /// <summary>
    /// <c>Broker:Sessions:IdleTimeout</c>: a session unused this long (no <c>POST /session</c>, <c>POST /tickets</c>,
    /// <c>IssueTicket</c> or <c>hello</c> naming it, and no socket open on it) ends. Default <c>00:20:00</c>.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>
    /// <c>Broker:Sessions:Lifetime</c>: a session ends this long after it was made, used or not; its sockets get
    /// <c>disconnect</c> and close 4003. Default <c>1.00:00:00</c>. Must be at least <see cref="IdleTimeout"/>.
    /// </summary>
    public TimeSpan Lifetime { get; set; } = DefaultLifetime;

    /// <summary>
    /// <c>Broker:Sessions:MaxCount</c>: the most sessions the store holds (the in-memory store: this node's; the Redis
    /// store: the whole cluster's, docs/sessions.md); past it a new session is refused (<c>POST /session</c> 503, an
    /// anonymous <c>hello</c> <c>limit_exceeded</c>). Default 100000.
    /// </summary>
    public int MaxCount { get; set; } = DefaultMaxCount;

    /// <summary>
    /// How often expired sessions are swept and the sessions of open sockets marked as used: a quarter of the
    /// idle timeout (so an open socket's session is refreshed several times before it could go idle), at most a
    /// minute (so a session past its lifetime loses its sockets within a minute).
    /// </summary>
    internal TimeSpan SweepInterval => IdleTimeout / 4 < TimeSpan.FromMinutes(1) ? IdleTimeout / 4 : TimeSpan.FromMinutes(1);
}
