using Broker.GrpcTransport;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Broker.Grpc.Transport;

/// <summary>
/// Serves one gRPC method on an endpoint: validates the request (HTTP/2, content-type), runs the handler and
/// ends the call with its status, in trailers or, before any message, as a trailers-only response.
/// </summary>
internal abstract class ServerCallHandler
{
    // Generic texts: an unexpected exception's message may carry internals, so it is logged, never sent.
    private const string InternalErrorDetail = "Exception was thrown by handler.";
    private const string DeadlineDetail = "Deadline Exceeded";

    protected ServerCallHandler(string fullName, GrpcTransportOptions options, ILogger logger)
    {
        FullName = fullName;
        Options = options;
        Logger = logger;
    }

    public string FullName { get; }

    protected GrpcTransportOptions Options { get; }

    protected ILogger Logger { get; }

    public async Task HandleAsync(HttpContext http)
    {
        if (!ValidateRequest(http, Logger))
        {
            return;
        }

        using var call = new HttpServerCallContext(http, FullName, Options);
        Exception? error = null;
        try
        {
            await RunAsync(call);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        EndCall(call, error);
    }

    /// <summary>Reads the request(s), calls the handler and writes the response(s); exceptions end the call.</summary>
    protected abstract Task RunAsync(HttpServerCallContext call);

    /// <summary>
    /// Refuses what is not a gRPC request this transport can serve: not HTTP/2 (426) or not a gRPC
    /// content-type (415, PROTOCOL-HTTP2.md). Returns false when the response has been written.
    /// </summary>
    public static bool ValidateRequest(HttpContext http, ILogger logger)
    {
        var request = http.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
        {
            GrpcTransportLog.UnsupportedProtocol(logger, request.Path, request.Protocol);
            // gRPC needs HTTP/2 trailers and streams; 426 names the protocol to use instead (RFC 9110 15.5.22).
            http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            http.Response.Headers.Upgrade = request.IsHttps ? "h2" : "h2c";
            SetStatusHeaders(http.Response.Headers, new Status(StatusCode.Internal, $"Request protocol '{request.Protocol}' is not supported."));
            return false;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            GrpcTransportLog.UnsupportedContentType(logger, request.Path, request.ContentType);
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            SetStatusHeaders(http.Response.Headers, new Status(StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported."));
            return false;
        }

        return true;
    }

    /// <summary>Writes a trailers-only response (HEADERS with END_STREAM): HTTP 200, content-type and the status.</summary>
    public static void WriteTrailersOnly(HttpContext http, Status status, Metadata? trailers)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        SetStatusHeaders(response.Headers, status);
        if (trailers is { Count: > 0 })
        {
            HttpServerCallContext.AddMetadata(response.Headers, trailers);
        }
    }

    private void EndCall(HttpServerCallContext call, Exception? error)
    {
        var http = call.GetHttpContext();
        Status status;
        Metadata? trailers = null;
        if (error is null && call.DeadlineExpired && call.Status.StatusCode == StatusCode.OK)
        {
            // Finished after its deadline: the client has given up, and gRPC's answer is DEADLINE_EXCEEDED.
            GrpcTransportLog.DeadlineExceeded(Logger, FullName);
            status = new Status(StatusCode.DeadlineExceeded, DeadlineDetail);
        }
        else if (error is null)
        {
            status = call.Status;
        }
        else if (error is RpcException rpc)
        {
            status = rpc.Status;
            trailers = rpc.Trailers;
        }
        else if (call.DeadlineExpired)
        {
            GrpcTransportLog.DeadlineExceeded(Logger, FullName);
            status = new Status(StatusCode.DeadlineExceeded, DeadlineDetail);
        }
        else if (call.ClientAborted)
        {
            // The client reset the stream: there is no one to send a status to, Kestrel has ended the stream.
            GrpcTransportLog.CallCancelled(Logger, FullName);
            return;
        }
        else
        {
            GrpcTransportLog.HandlerError(Logger, FullName, error);
            status = new Status(StatusCode.Internal, InternalErrorDetail);
        }

        if (status.StatusCode != StatusCode.OK && error is not null)
        {
            GrpcTransportLog.RpcError(Logger, FullName, status.StatusCode, status.Detail);
        }

        if (call.ClientAborted)
        {
            GrpcTransportLog.CallCancelled(Logger, FullName);
            return;
        }

        var allTrailers = call.ResponseTrailers;
        if (!http.Response.HasStarted && !call.ResponseBodyStarted)
        {
            // No message yet: the status goes in the response headers and the stream ends with them
            // (Kestrel sends HEADERS with END_STREAM when the app completes without a body).
            WriteTrailersOnly(http, status, allTrailers);
            if (trailers is not null && !ReferenceEquals(trailers, allTrailers))
            {
                HttpServerCallContext.AddMetadata(http.Response.Headers, trailers);
            }

            return;
        }

        var response = http.Response;
        response.AppendTrailer(GrpcProtocol.StatusHeader, GrpcProtocol.FormatStatusCode(status.StatusCode));
        if (status.Detail.Length > 0)
        {
            response.AppendTrailer(GrpcProtocol.MessageHeader, PercentEncoding.Encode(status.Detail));
        }

        AppendTrailers(response, allTrailers);
        if (trailers is not null && !ReferenceEquals(trailers, allTrailers))
        {
            AppendTrailers(response, trailers);
        }
    }

    private static void AppendTrailers(HttpResponse response, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            response.AppendTrailer(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
    }

    private static void SetStatusHeaders(IHeaderDictionary headers, Status status)
    {
        headers[GrpcProtocol.StatusHeader] = GrpcProtocol.FormatStatusCode(status.StatusCode);
        if (status.Detail.Length > 0)
        {
            headers[GrpcProtocol.MessageHeader] = PercentEncoding.Encode(status.Detail);
        }
    }
}
