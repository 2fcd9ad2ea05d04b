using System.Diagnostics.CodeAnalysis;
using System.Net;
using Broker.Diagnostics;
using Broker.Sessions.Internal;
using Microsoft.Extensions.Options;

namespace Broker.Sessions;

/// <summary>
/// Issues and consumes one-time WebSocket tickets (PROTOCOL.md, "Authentication: tickets"). <c>POST /tickets</c>
/// and gRPC <c>IssueTicket</c> issue them; the WebSocket <c>hello</c> consumes them.
/// </summary>
/// <remarks>
/// <para>
/// A ticket is 256 random bits (<see cref="System.Security.Cryptography.RandomNumberGenerator"/>) as 43
/// base64url characters. It is valid once: consuming takes it out of the <see cref="ITicketStore"/> with one
/// atomic take (<see cref="ITicketStore.TryTake"/>), which exactly one of any number of racing callers wins, on
/// any node that shares the store. The checks that follow (expiry, client IP) run on the taken entry, so a
/// ticket presented late or from the wrong address is burnt as well: whoever holds a leaked ticket gets one
/// try, never a retry.
/// </para>
/// <para>
/// With the default <see cref="InMemoryTicketStore"/>, tickets live in this process only. Expired ones are swept
/// on issue, at most once per <c>Broker:Tickets:Ttl</c>, so the table holds at most about two TTLs' worth of
/// issued tickets; no timer runs. A shared store lets its entries expire by themselves.
/// </para>
/// <para>Ticket text is never logged: log messages name the session, not the ticket.</para>
/// </remarks>
public sealed class TicketService
{
    // A ticket is 43 characters; a longer string is not one, and is refused before it touches the store.
    private const int MaxTicketLength = 64;

    private readonly ITicketStore _tickets;
    private readonly BrokerMetrics? _metrics;
    private readonly ISessionStore _store;
    private readonly SessionResolver _sessions;
    private readonly TimeProvider _time;
    private readonly ILogger<TicketService> _logger;
    private readonly TimeSpan _defaultTtl;
    private readonly TimeSpan _purgeInterval;
    private long _nextPurgeUtcTicks;

    // One gate per rejection reason: ticket guessing is logged once a minute per reason with a count, not per
    // attempt, so a flood of guesses cannot flood the log (the metric counts every one).
    private readonly LogGate[] _rejectionLogs;

    // The bound on outstanding tickets (in-memory store): a full store sweeps, at most once a second, before it
    // refuses, so a loop of refused issues does not walk the table each time; refusals are logged once a minute.
    private static readonly TimeSpan FullPurgeInterval = TimeSpan.FromSeconds(1);
    private readonly int _maxOutstanding;
    private readonly LogGate _limitLog;
    private long _nextFullPurgeUtcTicks;

    /// <summary>Creates the service with its own <see cref="InMemoryTicketStore"/>; the ticket settings are read once.</summary>
    public TicketService(
        ISessionStore store,
        SessionResolver sessions,
        IOptions<BrokerSessionOptions> options,
        TimeProvider time,
        ILogger<TicketService> logger,
        BrokerMetrics? metrics = null)
        : this(store, new InMemoryTicketStore(), sessions, options, time, logger, metrics)
    {
    }

    /// <summary>Creates the service on <paramref name="tickets"/>; the ticket settings are read once.</summary>
    public TicketService(
        ISessionStore store,
        ITicketStore tickets,
        SessionResolver sessions,
        IOptions<BrokerSessionOptions> options,
        TimeProvider time,
        ILogger<TicketService> logger,
        BrokerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(tickets);
        ArgumentNullException.ThrowIfNull(options);
        _tickets = tickets;
        _metrics = metrics;
        _store = store;
        _sessions = sessions;
        _time = time;
        _logger = logger;
        _defaultTtl = options.Value.Tickets.Ttl;
        _purgeInterval = _defaultTtl;
        _nextPurgeUtcTicks = time.GetUtcNow().UtcTicks + _purgeInterval.Ticks;
        _maxOutstanding = options.Value.Tickets.MaxOutstanding;
        _limitLog = new LogGate(time, TimeSpan.FromMinutes(1));
        _rejectionLogs = new LogGate[Enum.GetValues<TicketRejection>().Length];
        for (int i = 0; i < _rejectionLogs.Length; i++)
        {
            _rejectionLogs[i] = new LogGate(time, TimeSpan.FromMinutes(1));
        }
    }

    /// <summary>
    /// How many issued tickets are neither consumed nor purged yet (expired ones included until the next sweep);
    /// -1 when the store cannot count them cheaply (a shared store).
    /// </summary>
    public int OutstandingCount => _tickets.Count ?? -1;

    /// <summary>The default time to live of a ticket, <c>Broker:Tickets:Ttl</c>.</summary>
    public TimeSpan DefaultTtl => _defaultTtl;

    /// <summary>
    /// Issues a ticket, applying gRPC <c>IssueTicket</c>'s session rules: an empty <paramref name="sessionId"/>
    /// makes a new session; a non-empty one must name a session the broker knows
    /// (<see cref="TicketIssueStatus.SessionNotFound"/> otherwise); a <paramref name="userId"/>, when given, is
    /// bound to that session from then on.
    /// </summary>
    /// <param name="sessionId">The session, or <see langword="null"/>/empty for a new one.</param>
    /// <param name="userId">The user to bind, or <see langword="null"/>/empty to leave the session's user as it is.</param>
    /// <param name="claims">Claims for the socket; <see langword="null"/>/empty: the session's own claims.</param>
    /// <param name="clientIp">The only address the ticket may be used from, or <see langword="null"/> for any.</param>
    /// <param name="ttl">How long the ticket is valid; <see langword="null"/>: <c>Broker:Tickets:Ttl</c>. Must be positive.</param>
    /// <param name="cancellationToken">Cancels the session-store and ticket-store calls.</param>
    /// <returns>The ticket, or why there is none (<see cref="TicketIssueStatus.Unavailable"/> when a store is unreachable).</returns>
    public async ValueTask<TicketIssueResult> IssueAsync(
        string? sessionId,
        string? userId = null,
        IReadOnlyDictionary<string, string>? claims = null,
        IPAddress? clientIp = null,
        TimeSpan? ttl = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await IssueOrRefuseAsync(sessionId, userId, claims, clientIp, ttl, cancellationToken);
        }
        catch (SessionStoreUnavailableException)
        {
            return StoreUnavailable();
        }
    }

    private async ValueTask<TicketIssueResult> IssueOrRefuseAsync(
        string? sessionId, string? userId, IReadOnlyDictionary<string, string>? claims, IPAddress? clientIp, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        // proto3 strings default to "": empty means "not set" throughout.
        userId = string.IsNullOrEmpty(userId) ? null : userId;
        var status = ttl <= TimeSpan.Zero ? TicketIssueStatus.InvalidTtl
            : userId is not null && !SessionIdentifiers.IsValidUserId(userId) ? TicketIssueStatus.InvalidUserId
            : TicketIssueStatus.Issued;
        if (status != TicketIssueStatus.Issued)
        {
            SessionsLog.TicketRefused(_logger, sessionId, status);
            _metrics?.RecordTicket(TicketOutcome.Refused);
            return TicketIssueResult.Failed(status);
        }

        BrokerSession? session;
        if (string.IsNullOrEmpty(sessionId))
        {
            try
            {
                session = await _sessions.CreateSessionAsync(userId, claims, cancellationToken);
            }
            catch (SessionLimitExceededException)
            {
                // Counted and logged by the resolver.
                _metrics?.RecordTicket(TicketOutcome.Refused);
                return TicketIssueResult.Failed(TicketIssueStatus.SessionLimitReached);
            }
        }
        else
        {
            // A malformed id cannot name a session; skip the store round trip.
            session = SessionIdentifiers.IsWellFormedSessionId(sessionId)
                ? await _store.FindByIdAsync(sessionId, cancellationToken)
                : null;
            if (session is not null && userId is not null && session.UserId != userId)
            {
                session = await _store.BindUserAsync(session.SessionId, userId, cancellationToken);
                if (session is not null)
                {
                    SessionsLog.UserBound(_logger, session.SessionId, userId);
                }
            }
        }

        if (session is null)
        {
            SessionsLog.TicketRefused(_logger, sessionId, TicketIssueStatus.SessionNotFound);
            _metrics?.RecordTicket(TicketOutcome.Refused);
            return TicketIssueResult.Failed(TicketIssueStatus.SessionNotFound);
        }

        return await IssueCoreAsync(session, claims, clientIp, ttl ?? _defaultTtl, cancellationToken);
    }

    /// <summary>
    /// Issues a ticket for a session already in hand (<c>POST /tickets</c> resolved it from the cookie): the
    /// grant names the session's id, user and claims.
    /// </summary>
    /// <remarks>Blocks for a round trip when the ticket store is remote: prefer <see cref="IssueForSessionAsync"/>.</remarks>
    /// <param name="session">The session.</param>
    /// <param name="clientIp">The only address the ticket may be used from, or <see langword="null"/> for any.</param>
    public TicketIssueResult IssueForSession(BrokerSession session, IPAddress? clientIp)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!HasRoom())
        {
            return TicketIssueResult.Failed(TicketIssueStatus.TicketLimitReached);
        }

        var entry = NewEntry(session, claims: null, clientIp, _defaultTtl);
        string ticket;
        try
        {
            // 256 random bits never collide in practice; the loop only makes "unique" a guarantee instead of a bet.
            do
            {
                ticket = SessionIdentifiers.NewSecret();
            }
            while (!_tickets.TryAdd(ticket, entry, _defaultTtl));
        }
        catch (SessionStoreUnavailableException)
        {
            return StoreUnavailable();
        }

        return Issued(ticket, entry, session);
    }

    /// <inheritdoc cref="IssueForSession"/>
    /// <param name="session">The session.</param>
    /// <param name="clientIp">The only address the ticket may be used from, or <see langword="null"/> for any.</param>
    /// <param name="cancellationToken">Cancels the ticket-store call.</param>
    public async ValueTask<TicketIssueResult> IssueForSessionAsync(BrokerSession session, IPAddress? clientIp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        try
        {
            return await IssueCoreAsync(session, claims: null, clientIp, _defaultTtl, cancellationToken);
        }
        catch (SessionStoreUnavailableException)
        {
            return StoreUnavailable();
        }
    }

    /// <summary>
    /// Consumes a ticket: succeeds once for a known, unused, unexpired ticket presented from the address it is
    /// bound to (if any). Any presentation of a known ticket uses it up, a failed one included.
    /// </summary>
    /// <remarks>
    /// Blocks a thread for a round trip when the ticket store is remote, and the Redis client completes replies
    /// on the thread pool: many concurrent blocked calls starve it (a burst of reconnecting sockets after a node
    /// fails is exactly that). Callers on a cluster must use <see cref="TryConsumeAsync"/>.
    /// </remarks>
    /// <param name="ticket">The ticket text from <c>hello</c>.</param>
    /// <param name="clientIp">The address of the socket presenting it (<c>HttpContext.Connection.RemoteIpAddress</c>).</param>
    /// <param name="grant">What the ticket grants, when this returns <see langword="true"/>.</param>
    /// <exception cref="SessionStoreUnavailableException">The ticket store is unreachable (the caller answers <c>unavailable</c>).</exception>
    public bool TryConsume(string? ticket, IPAddress? clientIp, [NotNullWhen(true)] out TicketGrant? grant)
    {
        var entry = IsTicketShaped(ticket) ? _tickets.TryTake(ticket) : null;
        grant = Check(entry, clientIp);
        return grant is not null;
    }

    /// <summary>
    /// Consumes a ticket as <see cref="TryConsume"/> does, without blocking on a remote store.
    /// </summary>
    /// <exception cref="SessionStoreUnavailableException">The ticket store is unreachable (the caller answers <c>unavailable</c>; the ticket may be burnt).</exception>
    /// <param name="ticket">The ticket text from <c>hello</c>.</param>
    /// <param name="clientIp">The address of the socket presenting it (<c>HttpContext.Connection.RemoteIpAddress</c>).</param>
    /// <param name="cancellationToken">Cancels the ticket-store call; a take that reached a remote store may have burnt the ticket.</param>
    /// <returns>What the ticket grants, or <see langword="null"/> when it is refused.</returns>
    public async ValueTask<TicketGrant?> TryConsumeAsync(string? ticket, IPAddress? clientIp, CancellationToken cancellationToken = default)
    {
        var entry = IsTicketShaped(ticket) ? await _tickets.TryTakeAsync(ticket, cancellationToken) : null;
        return Check(entry, clientIp);
    }

    /// <summary>Removes every expired ticket now, rather than at the next sweep.</summary>
    /// <returns>How many were removed (0 with a store whose entries expire by themselves).</returns>
    public int PurgeExpired()
    {
        var removed = _tickets.PurgeExpired(_time.GetUtcNow());
        for (var i = 0; i < removed; i++)
        {
            _metrics?.RecordTicket(TicketOutcome.Expired);
        }

        if (removed > 0)
        {
            SessionsLog.TicketsPurged(_logger, removed, OutstandingCount);
        }

        return removed;
    }

    private static bool IsTicketShaped([NotNullWhen(true)] string? ticket) =>
        !string.IsNullOrEmpty(ticket) && ticket.Length <= MaxTicketLength;

    private void LogRejected(IPAddress? clientIp, TicketRejection reason)
    {
        if (_rejectionLogs[(int)reason].TryPass(out var count))
        {
            SessionsLog.TicketRejected(_logger, clientIp, reason, count);
        }
    }

    private TicketGrant? Check(TicketEntry? entry, IPAddress? clientIp)
    {
        if (entry is null)
        {
            LogRejected(clientIp, TicketRejection.Unknown);
            _metrics?.RecordTicket(TicketOutcome.Replayed);
            return null;
        }

        if (_time.GetUtcNow() >= entry.Grant.ExpiresAt)
        {
            LogRejected(clientIp, TicketRejection.Expired);
            _metrics?.RecordTicket(TicketOutcome.Expired);
            return null;
        }

        if (entry.BoundIp is not null && (clientIp is null || !Normalize(clientIp).Equals(entry.BoundIp)))
        {
            LogRejected(clientIp, TicketRejection.WrongClientIp);
            _metrics?.RecordTicket(TicketOutcome.WrongIp);
            return null;
        }

        SessionsLog.TicketConsumed(_logger, entry.Grant.SessionId);
        _metrics?.RecordTicket(TicketOutcome.Used);
        return entry.Grant;
    }

    private async ValueTask<TicketIssueResult> IssueCoreAsync(
        BrokerSession session, IReadOnlyDictionary<string, string>? claims, IPAddress? clientIp, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (!HasRoom())
        {
            return TicketIssueResult.Failed(TicketIssueStatus.TicketLimitReached);
        }

        var entry = NewEntry(session, claims, clientIp, ttl);
        string ticket;
        // As in IssueForSession: the loop makes uniqueness a guarantee.
        do
        {
            ticket = SessionIdentifiers.NewSecret();
        }
        while (!await _tickets.TryAddAsync(ticket, entry, ttl, cancellationToken));

        return Issued(ticket, entry, session);
    }

    private TicketEntry NewEntry(BrokerSession session, IReadOnlyDictionary<string, string>? claims, IPAddress? clientIp, TimeSpan ttl)
    {
        PurgeIfDue();
        var expiresAt = _time.GetUtcNow() + ttl;
        var grantClaims = claims is { Count: > 0 } ? new Dictionary<string, string>(claims, StringComparer.Ordinal) : session.Claims;
        return new TicketEntry(new TicketGrant(session.SessionId, session.UserId, grantClaims, expiresAt), clientIp is null ? null : Normalize(clientIp));
    }

    /// <summary>A store was unreachable: counted (<c>broker.engine.unavailable</c>, operation <c>tickets</c>; the store logged the cause).</summary>
    private TicketIssueResult StoreUnavailable()
    {
        _metrics?.RecordEngineUnavailable("tickets");
        _metrics?.RecordTicket(TicketOutcome.Refused);
        return TicketIssueResult.Failed(TicketIssueStatus.Unavailable);
    }

    private TicketIssueResult Issued(string ticket, TicketEntry entry, BrokerSession session)
    {
        SessionsLog.TicketIssued(_logger, session.SessionId, session.UserId, entry.Grant.ExpiresAt, entry.BoundIp);
        _metrics?.RecordTicket(TicketOutcome.Issued);
        return TicketIssueResult.Issued(ticket, entry.Grant.ExpiresAt, session);
    }

    /// <summary>
    /// Whether the store may take one more ticket: always for a store that cannot count (Redis: keys expire); for the
    /// in-memory one, while it holds fewer than <c>Broker:Tickets:MaxOutstanding</c>, sweeping the expired first when
    /// it looks full. A refusal is counted and logged (once a minute).
    /// </summary>
    private bool HasRoom()
    {
        if (_tickets.Count is not { } count || count < _maxOutstanding)
        {
            return true;
        }

        var now = _time.GetUtcNow().UtcTicks;
        var due = Interlocked.Read(ref _nextFullPurgeUtcTicks);
        if (now >= due && Interlocked.CompareExchange(ref _nextFullPurgeUtcTicks, now + FullPurgeInterval.Ticks, due) == due)
        {
            PurgeExpired();
        }

        if ((_tickets.Count ?? 0) < _maxOutstanding)
        {
            return true;
        }

        _metrics?.RecordLimitRefused(LimitKind.Tickets);
        _metrics?.RecordTicket(TicketOutcome.Refused);
        if (_limitLog.TryPass(out var refused))
        {
            SessionsLog.TicketLimitReached(_logger, _maxOutstanding, refused);
        }

        return false;
    }

    private void PurgeIfDue()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var due = Interlocked.Read(ref _nextPurgeUtcTicks);
        // Only the caller that moves the deadline sweeps, so concurrent issues never sweep twice.
        if (now >= due && Interlocked.CompareExchange(ref _nextPurgeUtcTicks, now + _purgeInterval.Ticks, due) == due)
        {
            PurgeExpired();
        }
    }

    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; compare the IPv4 form so both spellings match.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
