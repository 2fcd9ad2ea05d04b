using Broker.GrpcTransport;
using Microsoft.AspNetCore.Http;

namespace Broker.Grpc.Transport;

/// <summary>The server-side context of one call, as Grpc.Core's <c>ServerCallContext</c>.</summary>
public abstract class ServerCallContext
{
    /// <summary>The method's full name, <c>/{service}/{method}</c>.</summary>
    public abstract string Method { get; }

    /// <summary>The <c>:authority</c> the client called.</summary>
    public abstract string Host { get; }

    /// <summary>The client's address in gRPC's URI form, e.g. <c>ipv4:127.0.0.1:50312</c>.</summary>
    public abstract string Peer { get; }

    /// <summary>The call's deadline (UTC), from <c>grpc-timeout</c>; <see cref="DateTime.MaxValue"/> when none.</summary>
    public abstract DateTime Deadline { get; }

    /// <summary>The client's custom metadata (protocol headers excluded).</summary>
    public abstract Metadata RequestHeaders { get; }

    /// <summary>Fires when the client cancels (RST_STREAM, disconnect) or the deadline passes.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>Trailers sent with the status when the handler ends.</summary>
    public abstract Metadata ResponseTrailers { get; }

    /// <summary>The status sent when the handler returns normally; OK unless set. A thrown <see cref="RpcException"/> wins.</summary>
    public abstract Status Status { get; set; }

    /// <summary>The default options for the response stream's writes.</summary>
    public abstract WriteOptions? WriteOptions { get; set; }

    /// <summary>Sends the response headers now, with the metadata; at most once, before the first message.</summary>
    public abstract Task WriteResponseHeadersAsync(Metadata responseHeaders);

    /// <summary>The ASP.NET Core context of the call (as Grpc.AspNetCore's <c>GetHttpContext()</c>).</summary>
    public abstract HttpContext GetHttpContext();
}
