using Grpc.Core;

namespace Broker.Sdk;

/// <summary>
/// A broker call failed: the gRPC <see cref="StatusCode"/>, and the broker's error code (PROTOCOL.md's
/// <c>bad_request</c>, <c>too_large</c>, <c>not_found</c> …) in <see cref="ErrorCode"/>.
/// </summary>
public sealed class BrokerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">The gRPC status code.</param>
    /// <param name="errorCode">The broker's error code, or null.</param>
    /// <param name="message">The text.</param>
    /// <param name="innerException">The cause, or null.</param>
    public BrokerException(StatusCode statusCode, string? errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    /// <summary>The gRPC status code (<see cref="StatusCode.OK"/> for a per-request error on a stream whose call is fine).</summary>
    public StatusCode StatusCode { get; }

    /// <summary>
    /// The broker's error code: from the reply's <c>error_code</c> on streams, from the <c>error-code</c> trailer when
    /// the broker sends one, else derived from the status (INVALID_ARGUMENT: <c>bad_request</c>, UNAUTHENTICATED:
    /// <c>unauthorized</c>, RESOURCE_EXHAUSTED: <c>too_large</c> …); null for statuses with no broker meaning.
    /// </summary>
    public string? ErrorCode { get; }

    /// <summary>
    /// True when trying again later may succeed (UNAVAILABLE, a dropped connection; for a publication, only when
    /// it carries an idempotency key or a duplicate does not matter: it may have been published before the drop).
    /// </summary>
    public bool IsRetriable => StatusCode is StatusCode.Unavailable or StatusCode.Aborted || ErrorCode is "unavailable" or "rate_limited";

    /// <summary>Converts a transport failure.</summary>
    internal static BrokerException FromRpc(RpcException exception)
    {
        var code = exception.Trailers.GetValue("error-code") ?? ErrorCodeOf(exception.StatusCode);
        var detail = exception.Status.Detail;
        var message = string.IsNullOrEmpty(detail) ? exception.StatusCode.ToString() : $"{exception.StatusCode}: {detail}";
        return new BrokerException(exception.StatusCode, code, message, exception);
    }

    /// <summary>A per-request error on a stream (<c>PublishReply.error_code</c>).</summary>
    internal static BrokerException FromReply(string errorCode, string errorMessage) =>
        new(StatusCodeOf(errorCode), errorCode, string.IsNullOrEmpty(errorMessage) ? errorCode : $"{errorCode}: {errorMessage}");

    internal static string? ErrorCodeOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => "bad_request",
        StatusCode.Unauthenticated => "unauthorized",
        StatusCode.PermissionDenied => "forbidden",
        StatusCode.NotFound => "not_found",
        StatusCode.ResourceExhausted => "too_large",
        StatusCode.Unavailable => "unavailable",
        StatusCode.DeadlineExceeded => "timeout",
        StatusCode.Internal => "internal",
        _ => null,
    };

    private static StatusCode StatusCodeOf(string errorCode) => errorCode switch
    {
        "bad_request" => StatusCode.InvalidArgument,
        "unauthorized" => StatusCode.Unauthenticated,
        "forbidden" => StatusCode.PermissionDenied,
        "not_found" => StatusCode.NotFound,
        "too_large" or "rate_limited" or "limit_exceeded" => StatusCode.ResourceExhausted,
        "unavailable" => StatusCode.Unavailable,
        "timeout" => StatusCode.DeadlineExceeded,
        _ => StatusCode.Unknown,
    };
}
