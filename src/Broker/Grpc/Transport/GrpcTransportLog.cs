using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Broker.Grpc.Transport;

/// <summary>The server transport's log messages; event ids 7100-7199 belong to the gRPC transport.</summary>
internal static partial class GrpcTransportLog
{
    [LoggerMessage(EventId = 7100, EventName = "HandlerError", Level = LogLevel.Error, Message = "Error when executing gRPC method '{Method}'.")]
    public static partial void HandlerError(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 7101, EventName = "CallCancelled", Level = LogLevel.Debug, Message = "gRPC call '{Method}' was cancelled by the client.")]
    public static partial void CallCancelled(ILogger logger, string method);

    [LoggerMessage(EventId = 7102, EventName = "DeadlineExceeded", Level = LogLevel.Debug, Message = "gRPC call '{Method}' exceeded its deadline.")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(EventId = 7103, EventName = "UnsupportedContentType", Level = LogLevel.Information, Message = "gRPC request to '{Path}' refused: content-type '{ContentType}' is not supported.")]
    public static partial void UnsupportedContentType(ILogger logger, PathString path, string? contentType);

    [LoggerMessage(EventId = 7104, EventName = "UnsupportedProtocol", Level = LogLevel.Information, Message = "gRPC request to '{Path}' refused: protocol '{Protocol}' is not HTTP/2.")]
    public static partial void UnsupportedProtocol(ILogger logger, PathString path, string protocol);

    [LoggerMessage(EventId = 7105, EventName = "Unimplemented", Level = LogLevel.Information, Message = "gRPC request to unimplemented '{Path}'.")]
    public static partial void Unimplemented(ILogger logger, PathString path);

    [LoggerMessage(EventId = 7106, EventName = "RpcError", Level = LogLevel.Information, Message = "gRPC call '{Method}' ended with status {StatusCode}: {Detail}")]
    public static partial void RpcError(ILogger logger, string method, Broker.GrpcTransport.StatusCode statusCode, string detail);
}
