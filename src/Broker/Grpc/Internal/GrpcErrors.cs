using Broker.Core;
using Grpc.Core;

namespace Broker.Grpc.Internal;

/// <summary>
/// The one table from the core's <see cref="ErrorCode"/> to a gRPC status (PROTOCOL.md, "gRPC
/// transport": bad names and data <c>INVALID_ARGUMENT</c>, data too large <c>RESOURCE_EXHAUSTED</c>,
/// draining or the engine unreachable <c>UNAVAILABLE</c>). A stream's per-request replies carry the
/// code's name instead (<see cref="BrokerError.Name"/>).
/// </summary>
internal static class GrpcErrors
{
    public static StatusCode StatusOf(ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => StatusCode.InvalidArgument,
        ErrorCode.Unauthorized => StatusCode.Unauthenticated,
        ErrorCode.Forbidden => StatusCode.PermissionDenied,
        ErrorCode.NotFound => StatusCode.NotFound,
        ErrorCode.TooLarge or ErrorCode.RateLimited or ErrorCode.LimitExceeded => StatusCode.ResourceExhausted,
        ErrorCode.AlreadySubscribed => StatusCode.AlreadyExists,
        ErrorCode.NotSubscribed => StatusCode.FailedPrecondition,
        ErrorCode.Unavailable => StatusCode.Unavailable,
        ErrorCode.Timeout => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    /// <summary>A refused unary call: its status and message.</summary>
    public static RpcException ToException(this BrokerError error) => new(new Status(StatusOf(error.Code), error.Message));

    /// <summary>The value of a core request, or the call fails with the refusal's status.</summary>
    public static T OrThrow<T>(this Result<T> result) =>
        result.TryGetValue(out var value, out var error) ? value : throw error.ToException();
}
