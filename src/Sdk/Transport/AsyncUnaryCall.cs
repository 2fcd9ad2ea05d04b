using System.Runtime.CompilerServices;
using Broker.GrpcTransport;

namespace Broker.Sdk.Transport;

/// <summary>A running unary call, as Grpc.Core's <c>AsyncUnaryCall&lt;TResponse&gt;</c>; await it for the response.</summary>
public sealed class AsyncUnaryCall<TResponse> : IDisposable
{
    private readonly IClientCall _call;

    internal AsyncUnaryCall(Task<TResponse> responseAsync, IClientCall call)
    {
        ResponseAsync = responseAsync;
        _call = call;
    }

    /// <summary>The response; faults with <see cref="RpcException"/> when the status is not OK.</summary>
    public Task<TResponse> ResponseAsync { get; }

    /// <summary>The response headers, once received.</summary>
    public Task<Metadata> ResponseHeadersAsync => _call.ResponseHeadersAsync;

    /// <summary>Awaits <see cref="ResponseAsync"/>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    /// <summary>The call's status; throws <see cref="InvalidOperationException"/> before the call has ended.</summary>
    public Status GetStatus() => _call.GetStatus();

    /// <summary>The call's trailers; throws <see cref="InvalidOperationException"/> before the call has ended.</summary>
    public Metadata GetTrailers() => _call.GetTrailers();

    /// <summary>Cancels the call if it is still running (RST_STREAM) and releases its resources.</summary>
    public void Dispose() => _call.Dispose();
}
