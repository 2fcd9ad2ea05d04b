using Broker.Diagnostics;
using Broker.Lifecycle;
using Broker.Lifecycle.Internal;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Broker.Grpc.Internal;

/// <summary>
/// What every call of the <c>broker.v1.Broker</c> service goes through before its method, in one place: refused
/// with <c>UNAVAILABLE</c> while the broker drains (PROTOCOL.md: the client goes to another broker), then the API
/// key (<see cref="ApiKeyAuthenticator"/>). A stream is also counted in <c>broker.connections{transport=grpc}</c>
/// for its life, detached from its HTTP request's activity, freed from Kestrel's minimum response data rate, and
/// when the drain ends it, it ends with <c>UNAVAILABLE</c>.
/// </summary>
internal sealed class BrokerCallInterceptor(ApiKeyAuthenticator auth, DrainState drain, BrokerMetrics metrics) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        StreamAsync(context, () => continuation(request, responseStream, context));

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        TResponse response = default!;
        await StreamAsync(context, async () => response = await continuation(requestStream, context));
        return response;
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        StreamAsync(context, () => continuation(requestStream, responseStream, context));

    /// <summary>The status a call gets when the broker drains (PROTOCOL.md: UNAVAILABLE, so the client goes elsewhere).</summary>
    public static RpcException Draining() => new(new Status(StatusCode.Unavailable, DrainMiddleware.ShuttingDown));

    private void Admit(ServerCallContext context)
    {
        if (drain.IsDraining)
        {
            throw Draining();
        }

        auth.Check(context);
    }

    /// <summary>Every streaming call, whatever its shape: admitted, counted for its life, and ended as <see cref="Ended"/> says.</summary>
    private async Task StreamAsync(ServerCallContext context, Func<Task> call)
    {
        Admit(context);
        StartStream(context);
        try
        {
            await call();
        }
        catch (Exception error) when (Ended(error, context) is { } ended)
        {
            throw ended;
        }
        finally
        {
            metrics.GrpcStreamEnded();
        }
    }

    private void StartStream(ServerCallContext context)
    {
        // An hour-long stream must not hang under its HTTP request's span.
        BrokerTracing.DetachLongLivedRequest();
        // Kestrel aborts a response that sends under 240 bytes/s after a 5 s grace while a write is pending; a
        // stream's subscriber may be idle or slow for longer, and its own queue policy (lagged, slow consumer)
        // decides. Grpc.AspNetCore lifts only the request side's rate for streams.
        if (context.GetHttpContext().Features.Get<IHttpMinResponseDataRateFeature>() is { } minResponseRate)
        {
            minResponseRate.MinDataRate = null;
        }

        metrics.GrpcStreamStarted();
    }

    /// <summary>
    /// How a stream that stopped early ends. Stopped by the drain (its token links the drain), not by its client or
    /// deadline: UNAVAILABLE, which it owes its client. A write that found its client gone (Grpc.AspNetCore throws
    /// InvalidOperationException then): a cancellation, which Grpc.AspNetCore logs as such rather than as our error.
    /// Anything else: null, thrown as it is.
    /// </summary>
    private Exception? Ended(Exception error, ServerCallContext context) => error switch
    {
        OperationCanceledException when drain.IsDraining && !context.CancellationToken.IsCancellationRequested => Draining(),
        InvalidOperationException when context.CancellationToken.IsCancellationRequested => new OperationCanceledException("The client ended the call.", error, context.CancellationToken),
        _ => null,
    };
}
