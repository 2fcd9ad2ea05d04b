namespace Broker.Sessions;

/// <summary>What <see cref="OriginPolicy"/> decided about a request.</summary>
public enum OriginDecision
{
    /// <summary>No <c>Origin</c> header, or an allowed one; and no <c>Sec-Fetch-Site: cross-site</c>.</summary>
    Allowed,

    /// <summary>The <c>Origin</c> header names an origin that is not allowed (or is not an origin at all, e.g. <c>null</c>).</summary>
    ForeignOrigin,

    /// <summary>The browser says the request is cross-site (<c>Sec-Fetch-Site: cross-site</c>).</summary>
    CrossSite,
}
