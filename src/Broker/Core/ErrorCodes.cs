namespace Broker.Core;

/// <summary>
/// The error codes of PROTOCOL.md as they go on the wire, shared by every transport (WebSocket
/// <c>error.code</c>, gRPC <c>error_code</c>), and the one table from <see cref="ErrorCode"/> to them.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The wire name of <paramref name="code"/>.</summary>
    public static string Name(ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => BadRequest,
        ErrorCode.Unauthorized => Unauthorized,
        ErrorCode.Forbidden => Forbidden,
        ErrorCode.NotFound => NotFound,
        ErrorCode.TooLarge => TooLarge,
        ErrorCode.RateLimited => RateLimited,
        ErrorCode.LimitExceeded => LimitExceeded,
        ErrorCode.AlreadySubscribed => AlreadySubscribed,
        ErrorCode.NotSubscribed => NotSubscribed,
        ErrorCode.Unavailable => Unavailable,
        ErrorCode.Timeout => Timeout,
        _ => Internal,
    };

    /// <summary>The code a wire name stands for, or null for a name PROTOCOL.md does not define (a handler's own).</summary>
    public static ErrorCode? Parse(string name) => name switch
    {
        BadRequest => ErrorCode.BadRequest,
        Unauthorized => ErrorCode.Unauthorized,
        Forbidden => ErrorCode.Forbidden,
        NotFound => ErrorCode.NotFound,
        TooLarge => ErrorCode.TooLarge,
        RateLimited => ErrorCode.RateLimited,
        LimitExceeded => ErrorCode.LimitExceeded,
        AlreadySubscribed => ErrorCode.AlreadySubscribed,
        NotSubscribed => ErrorCode.NotSubscribed,
        Unavailable => ErrorCode.Unavailable,
        Timeout => ErrorCode.Timeout,
        Internal => ErrorCode.Internal,
        _ => null,
    };

    /// <summary>A malformed request: not JSON, unknown type, a missing field, a bad name.</summary>
    public const string BadRequest = "bad_request";

    /// <summary>No valid identity (no hello, bad ticket).</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>The identity may not do this (namespace permission, personal channels).</summary>
    public const string Forbidden = "forbidden";

    /// <summary>The thing named does not exist (an unknown namespace, session).</summary>
    public const string NotFound = "not_found";

    /// <summary><c>data</c> over <c>MaxMessageBytes</c>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>Over the publish rate.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>Over a count limit, such as subscriptions per connection.</summary>
    public const string LimitExceeded = "limit_exceeded";

    /// <summary>Subscribing to a channel the connection is already subscribed to.</summary>
    public const string AlreadySubscribed = "already_subscribed";

    /// <summary>Unsubscribing from a channel the connection is not subscribed to.</summary>
    public const string NotSubscribed = "not_subscribed";

    /// <summary>Nothing can serve it now: no handler, the broker draining, the engine unreachable.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>No answer before the deadline.</summary>
    public const string Timeout = "timeout";

    /// <summary>The broker's own fault.</summary>
    public const string Internal = "internal";
}
