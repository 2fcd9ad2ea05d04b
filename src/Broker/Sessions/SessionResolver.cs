using System.Security.Cryptography;
using Broker.Diagnostics;
using Broker.Sessions.Internal;
using Microsoft.AspNetCore.DataProtection;

namespace Broker.Sessions;

/// <summary>
/// Finds and makes browser sessions. The session cookie's value is a random cookie key protected with ASP.NET
/// Core Data Protection (authenticated encryption under the app's key ring), so a browser can neither read
/// nor forge it, and the public <see cref="BrokerSession.SessionId"/> (which appears in channel names) is
/// useless as a credential.
/// </summary>
/// <remarks>
/// The WebSocket transport calls <see cref="ResolveAsync"/> on the upgrade request to bind a ticketless
/// <c>hello</c> to the cookie, and <see cref="CreateSessionAsync"/> for an anonymous socket
/// (<c>Broker:AllowAnonymous</c>).
/// </remarks>
public sealed class SessionResolver
{
    /// <summary>The name of the session cookie.</summary>
    public const string CookieName = "broker.session";

    /// <summary>
    /// The Data Protection purpose of the cookie value. A payload protected for any other purpose (another
    /// app's cookie, an antiforgery token) does not unprotect here.
    /// </summary>
    public const string ProtectorPurpose = "Broker.Sessions.SessionCookie.v1";

    // A protected 43-character key is about 150 characters; anything far longer is junk not worth decrypting.
    private const int MaxCookieLength = 1024;

    private readonly ISessionStore _store;
    private readonly IDataProtector _protector;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionResolver> _logger;
    private readonly BrokerMetrics? _metrics;
    private readonly int _maxCount;

    // A loop of POST /session against a full store is logged once a minute, with the count, not per request.
    private readonly LogGate _limitLog;

    /// <summary>Creates the resolver.</summary>
    public SessionResolver(
        ISessionStore store,
        IDataProtectionProvider dataProtection,
        TimeProvider time,
        ILogger<SessionResolver> logger,
        BrokerMetrics? metrics = null,
        Microsoft.Extensions.Options.IOptions<BrokerSessionOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataProtection);
        _store = store;
        _protector = dataProtection.CreateProtector(ProtectorPurpose);
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _maxCount = options?.Value.Sessions.MaxCount ?? SessionStoreOptions.DefaultMaxCount;
        _limitLog = new LogGate(time, TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// The session the request's cookie points at, or <see langword="null"/> when there is no cookie, the
    /// cookie does not unprotect (tampered, or from another key ring), or the store no longer knows it.
    /// </summary>
    /// <remarks>Does not apply the origin rule: callers that act on the result check <see cref="OriginPolicy"/> first.</remarks>
    /// <exception cref="SessionStoreUnavailableException">The session store is unreachable (the caller answers <c>unavailable</c>).</exception>
    public async ValueTask<BrokerSession?> ResolveAsync(HttpContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var protectedKey) || string.IsNullOrEmpty(protectedKey))
        {
            return null;
        }

        var cookieKey = Unprotect(protectedKey);
        if (cookieKey is null)
        {
            return null;
        }

        var session = await _store.FindByCookieKeyAsync(cookieKey, cancellationToken);
        if (session is null)
        {
            SessionsLog.SessionCookieRejected(_logger, "the session is no longer known");
        }

        return session;
    }

    /// <summary>
    /// The request's session (<see cref="ResolveAsync"/>), or a new one whose cookie is added to the response:
    /// HttpOnly, SameSite=Lax, Secure when the request is HTTPS, Path=/, no expiry (a browser-session cookie).
    /// </summary>
    /// <exception cref="SessionLimitExceededException">A new session was needed and the store is full (counted and logged here).</exception>
    /// <exception cref="SessionStoreUnavailableException">The session store is unreachable (the caller answers <c>unavailable</c>).</exception>
    public async ValueTask<BrokerSession> GetOrCreateAsync(HttpContext context, CancellationToken cancellationToken = default)
    {
        var existing = await ResolveAsync(context, cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        var cookieKey = SessionIdentifiers.NewSecret();
        var session = await CreateAsync(cookieKey, userId: null, claims: null, cancellationToken);
        string protectedKey;
        try
        {
            protectedKey = _protector.Protect(cookieKey);
        }
        catch (CryptographicException e) when (StoreUnavailable(e) is { } unavailable)
        {
            throw unavailable;
        }

        context.Response.Cookies.Append(CookieName, protectedKey, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = context.Request.IsHttps,
            Path = "/",
            // Needed for the broker to work at all, so a cookie-consent policy must not suppress it.
            IsEssential = true,
        });
        return session;
    }

    /// <summary>
    /// Makes a session that no cookie points at: one a backend asks for over gRPC (<c>IssueTicket</c> with an
    /// empty session id), or an anonymous socket's.
    /// </summary>
    /// <param name="userId">The user to bind, or <see langword="null"/>; must pass <see cref="SessionIdentifiers.IsValidUserId"/>.</param>
    /// <param name="claims">Claims to keep with the session, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is not a valid user id.</exception>
    /// <exception cref="SessionLimitExceededException">The store is full (counted and logged here).</exception>
    /// <exception cref="SessionStoreUnavailableException">The session store is unreachable (the caller answers <c>unavailable</c>).</exception>
    public ValueTask<BrokerSession> CreateSessionAsync(
        string? userId = null, IReadOnlyDictionary<string, string>? claims = null, CancellationToken cancellationToken = default)
    {
        if (userId is not null && !SessionIdentifiers.IsValidUserId(userId))
        {
            throw new ArgumentException("A user id is 1-128 characters of [A-Za-z0-9_.-:@#/=].", nameof(userId));
        }

        return CreateAsync(cookieKey: null, userId, claims, cancellationToken);
    }

    private async ValueTask<BrokerSession> CreateAsync(
        string? cookieKey, string? userId, IReadOnlyDictionary<string, string>? claims, CancellationToken cancellationToken)
    {
        // Copy the claims: the caller's dictionary may change after this call, the session must not.
        var ownClaims = claims is { Count: > 0 } ? new Dictionary<string, string>(claims, StringComparer.Ordinal) : BrokerSession.NoClaims;
        var session = new BrokerSession(SessionIdentifiers.NewSessionId(), userId, _time.GetUtcNow(), ownClaims);
        try
        {
            await _store.CreateAsync(session, cookieKey, cancellationToken);
        }
        catch (SessionLimitExceededException)
        {
            _metrics?.RecordLimitRefused(LimitKind.Sessions);
            if (_limitLog.TryPass(out var refused))
            {
                SessionsLog.SessionLimitReached(_logger, _maxCount, refused);
            }

            throw;
        }

        SessionsLog.SessionCreated(_logger, session.SessionId, cookieKey is not null, userId);
        return session;
    }

    /// <summary>
    /// The store failure inside a Data Protection error, if that is what it is: Data Protection wraps whatever its key
    /// ring repository threw into a <see cref="CryptographicException"/>.
    /// </summary>
    private static SessionStoreUnavailableException? StoreUnavailable(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SessionStoreUnavailableException unavailable)
            {
                return unavailable;
            }
        }

        return null;
    }

    private string? Unprotect(string protectedKey)
    {
        if (protectedKey.Length > MaxCookieLength)
        {
            SessionsLog.SessionCookieRejected(_logger, "the cookie is too long");
            return null;
        }

        try
        {
            return _protector.Unprotect(protectedKey);
        }
        catch (CryptographicException e) when (StoreUnavailable(e) is { } unavailable)
        {
            // The key ring could not be loaded (a shared ring whose store is down): the cookie may be fine.
            throw unavailable;
        }
        catch (CryptographicException)
        {
            // Tampered, truncated, or protected under a key ring this broker does not hold (e.g. keys lost at a
            // restart without persisted keys). The browser gets a fresh session from POST /session.
            SessionsLog.SessionCookieRejected(_logger, "the cookie does not unprotect");
            return null;
        }
        catch (FormatException)
        {
            SessionsLog.SessionCookieRejected(_logger, "the cookie is not base64url");
            return null;
        }
    }
}
