using System.Diagnostics.CodeAnalysis;
using Broker.Sessions.Internal;
using Microsoft.Extensions.Options;

namespace Broker.Sessions;

/// <summary>
/// The same-origin guard of <c>POST /session</c>, <c>POST /tickets</c> and the WebSocket upgrade
/// (PROTOCOL.md, "Authentication"): a request is refused when it carries an <c>Origin</c> header that is not
/// in <c>Broker:AllowedOrigins</c> (default when that list is empty: the request's own scheme, host and
/// port) or, for the full check, <c>Sec-Fetch-Site: cross-site</c>.
/// </summary>
/// <remarks>
/// A request without <c>Origin</c> passes: browsers send it on every POST and on every WebSocket upgrade, so
/// its absence means a non-browser client, which cookies-based CSRF cannot come from. Origins compare by
/// scheme, host (case-insensitive) and port, with default ports made explicit, so <c>https://a.example</c>
/// and <c>https://a.example:443</c> are the same origin.
/// </remarks>
public sealed class OriginPolicy
{
    // Fetch-metadata header (W3C Fetch Metadata); browsers add it to every request, scripts cannot forge it.
    private const string SecFetchSite = "Sec-Fetch-Site";

    private readonly HashSet<string>? _allowed;
    private readonly ILogger<OriginPolicy> _logger;

    /// <summary>Creates the policy from <c>Broker:AllowedOrigins</c>, read once.</summary>
    public OriginPolicy(IOptions<BrokerSessionOptions> options, ILogger<OriginPolicy> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        var origins = options.Value.AllowedOrigins;
        if (origins is { Count: > 0 })
        {
            _allowed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var origin in origins)
            {
                // The validator ran at start, so every entry normalizes; skip defensively rather than throw per request.
                if (TryNormalizeOrigin(origin, out var normalized))
                {
                    _allowed.Add(normalized);
                }
            }
        }
    }

    /// <summary>
    /// The full check, for <c>POST /session</c>, <c>POST /tickets</c> and any request that will be bound to
    /// the session cookie: the <c>Origin</c> rule and the <c>Sec-Fetch-Site</c> rule. Logs a refusal at
    /// Information.
    /// </summary>
    public OriginDecision Evaluate(HttpRequest request) => Evaluate(request, checkFetchSite: true);

    /// <summary>
    /// Checks a request; logs a refusal at Information.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="checkFetchSite">
    /// <see langword="true"/> to refuse <c>Sec-Fetch-Site: cross-site</c> too. The WebSocket upgrade passes
    /// <see langword="false"/>: PROTOCOL.md refuses an upgrade only for its <c>Origin</c>, and a page on another
    /// site listed in <c>Broker:AllowedOrigins</c> may connect with a ticket its backend minted. Binding such a
    /// socket to the session cookie must still require the full check.
    /// </param>
    public OriginDecision Evaluate(HttpRequest request, bool checkFetchSite)
    {
        ArgumentNullException.ThrowIfNull(request);
        var decision = Decide(request, checkFetchSite);
        if (decision != OriginDecision.Allowed)
        {
            // StringValues, not strings: the generated logger formats them only when Information is enabled.
            SessionsLog.OriginRefused(_logger, request.Method, request.Path.Value ?? "/", decision,
                request.Headers.Origin, request.Headers[SecFetchSite]);
        }

        return decision;
    }

    private OriginDecision Decide(HttpRequest request, bool checkFetchSite)
    {
        if (checkFetchSite && string.Equals(request.Headers[SecFetchSite], "cross-site", StringComparison.OrdinalIgnoreCase))
        {
            return OriginDecision.CrossSite;
        }

        var origins = request.Headers.Origin;
        if (origins.Count == 0)
        {
            return OriginDecision.Allowed;
        }

        // More than one Origin value is not something a browser sends: refuse rather than pick one.
        if (origins.Count > 1 || !TryNormalizeOrigin(origins[0], out var origin))
        {
            return OriginDecision.ForeignOrigin;
        }

        if (_allowed is not null)
        {
            return _allowed.Contains(origin) ? OriginDecision.Allowed : OriginDecision.ForeignOrigin;
        }

        return string.Equals(origin, OwnOrigin(request), StringComparison.Ordinal)
            ? OriginDecision.Allowed
            : OriginDecision.ForeignOrigin;
    }

    // The request's own origin as the browser would write it: behind a TLS-terminating proxy this is only
    // right when the forwarded-headers middleware runs first (docs/sessions.md).
    private static string OwnOrigin(HttpRequest request)
    {
        var scheme = request.Scheme.ToLowerInvariant();
        var port = request.Host.Port ?? (scheme == "https" ? 443 : 80);
        return $"{scheme}://{request.Host.Host.ToLowerInvariant()}:{port}";
    }

    /// <summary>
    /// Turns an origin such as <c>https://App.Example</c> into the canonical <c>https://app.example:443</c>;
    /// fails for anything that is not an http(s) origin (a path, a query, a user, a wildcard, <c>null</c>).
    /// </summary>
    internal static bool TryNormalizeOrigin(string? text, [NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrWhiteSpace(text) || text.Contains('*', StringComparison.Ordinal))
        {
            return false;
        }

        // Configured origins are often written with a trailing slash; tolerate exactly that one.
        var trimmed = text.EndsWith('/') ? text[..^1] : text;
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.UserInfo.Length > 0
            || uri.PathAndQuery != "/"
            || uri.Fragment.Length > 0
            || trimmed.EndsWith('/'))
        {
            return false;
        }

        // IdnHost is the punycode form browsers put in Origin; it drops IPv6 brackets, which HostString keeps.
        var host = uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost}]" : uri.IdnHost;
        normalized = $"{uri.Scheme}://{host.ToLowerInvariant()}:{uri.Port}";
        return true;
    }
}
