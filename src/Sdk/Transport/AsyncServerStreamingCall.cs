using Broker.GrpcTransport;

namespace Broker.Sdk.Transport;

/// <summary>A running server-streaming call, as Grpc.Core's <c>AsyncServerStreamingCall</c>.</summary>
public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
{
    private readonly IClientCall _call;

    internal AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responseStream, IClientCall call)
    {
        ResponseStream = responseStream;
        _call = call;
    }

    /// <summary>The response stream; its <c>MoveNext</c> throws <see cref="RpcException"/> when the status is not OK.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    /// <summary>The response headers, once received.</summary>
    public Task<Metadata> ResponseHeadersAsync => _call.ResponseHeadersAsync;

    /// <summary>The call's status; throws <see cref="InvalidOperationException"/> before the call has ended.</summary>
    public Status GetStatus() => _call.GetStatus();

    /// <summary>The call's trailers; throws <see cref="InvalidOperationException"/> before the call has ended.</summary>
    public Metadata GetTrailers() => _call.GetTrailers();

    /// <summary>Cancels the call if it is still running (RST_STREAM) and releases its resources.</summary>
    public void Dispose() => _call.Dispose();
}
