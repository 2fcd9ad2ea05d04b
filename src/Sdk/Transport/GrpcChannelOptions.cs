using Broker.GrpcTransport;

namespace Broker.Sdk.Transport;

/// <summary>Options of a <see cref="GrpcChannel"/>.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>The largest response message accepted, in bytes; larger fails the call with RESOURCE_EXHAUSTED. Default: 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>The largest request message sent, in bytes; larger fails the call with RESOURCE_EXHAUSTED. Default: unlimited.</summary>
    public int MaxSendMessageSize { get; set; } = int.MaxValue;

    /// <summary>
    /// The handler to send requests with, e.g. one with client certificates; null (the default) creates a
    /// <see cref="System.Net.Http.SocketsHttpHandler"/> set up for gRPC. A given handler is not disposed by the channel.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>
    /// Idle time before the client pings the server while calls are open. Default: 330 s. grpc-core servers
    /// answer pings closer than 5 minutes apart (with no data in between) with GOAWAY too_many_pings after two
    /// strikes, so the delay stays above 300 s, and below the 350 s idle cut of common load balancers.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(330);

    /// <summary>How long a ping may go unanswered before the connection is closed. Default: 20 s, grpc-core's default.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
