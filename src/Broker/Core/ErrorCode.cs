namespace Broker.Core;

/// <summary>
/// Why the core refused a request: the error codes of PROTOCOL.md as one vocabulary for every transport.
/// A transport maps a code to its wire through one table: the WebSocket <c>error.code</c> and gRPC's
/// <c>error_code</c> use <see cref="ErrorCodes.Name"/>; a unary gRPC call's status comes from the gRPC
/// transport's own table.
/// </summary>
public enum ErrorCode
{
    /// <summary><c>bad_request</c>: a malformed request: not JSON, unknown type, a missing field, a bad name.</summary>
    BadRequest,

    /// <summary><c>unauthorized</c>: no valid identity (no hello, bad ticket).</summary>
    Unauthorized,

    /// <summary><c>forbidden</c>: the identity may not do this (namespace permission, personal channels).</summary>
    Forbidden,

    /// <summary><c>not_found</c>: the thing named does not exist (an unknown namespace, session; presence not kept).</summary>
    NotFound,

    /// <summary><c>too_large</c>: <c>data</c> over <c>MaxMessageBytes</c>.</summary>
    TooLarge,

    /// <summary><c>rate_limited</c>: over the publish rate.</summary>
    RateLimited,

    /// <summary><c>limit_exceeded</c>: over a count limit, such as subscriptions per connection.</summary>
    LimitExceeded,

    /// <summary><c>already_subscribed</c>: subscribing to a channel the connection is already subscribed to.</summary>
    AlreadySubscribed,

    /// <summary><c>not_subscribed</c>: unsubscribing from a channel the connection is not subscribed to.</summary>
    NotSubscribed,

    /// <summary><c>unavailable</c>: nothing can serve it now: no handler, the broker draining, the engine unreachable.</summary>
    Unavailable,

    /// <summary><c>timeout</c>: no answer before the deadline.</summary>
    Timeout,

    /// <summary><c>internal</c>: the broker's own fault.</summary>
    Internal,
}
