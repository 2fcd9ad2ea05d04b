using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Broker.Grpc;

/// <summary>Kestrel's HTTP/2 settings for the broker's gRPC endpoint (Grpc.AspNetCore leaves them to the host).</summary>
public static class GrpcKestrelLimits
{
    /// <summary>
    /// Concurrent streams per HTTP/2 connection: 1000. Kestrel's default, 100, caps a backend at 100 open
    /// calls per connection, and every Subscribe or Handle stream holds one for its whole life.
    /// </summary>
    public const int MaxStreamsPerConnection = 1000;

    /// <summary>
    /// Idle time before Kestrel pings a client: 60 s. Detects dead peers on long-lived streams well before
    /// NATs and load balancers drop idle flows (often at 350 s); pings from a server are never counted as
    /// abuse by gRPC clients (grpc-core polices pings only on the server side).
    /// </summary>
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(60);

    /// <summary>How long a ping may go unanswered before the connection is closed: 20 s, grpc-core's default.</summary>
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Applies <see cref="MaxStreamsPerConnection"/>, <see cref="KeepAlivePingDelay"/> and
    /// <see cref="KeepAlivePingTimeout"/>. <c>AddBrokerGrpc</c> calls it; call it yourself only when
    /// configuring Kestrel by hand. <c>AddBroker</c> then binds <c>Kestrel:Limits</c> from configuration, so a
    /// configured value (<c>Kestrel:Limits:Http2:MaxStreamsPerConnection</c>) wins over these.
    /// </summary>
    public static KestrelServerOptions ConfigureGrpcLimits(this KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var http2 = options.Limits.Http2;
        http2.MaxStreamsPerConnection = Math.Max(http2.MaxStreamsPerConnection, MaxStreamsPerConnection);
        http2.KeepAlivePingDelay = KeepAlivePingDelay;
        http2.KeepAlivePingTimeout = KeepAlivePingTimeout;
        return options;
    }
}
