using Broker.Grpc.Transport;
using Broker.GrpcTransport;

namespace Broker.Lifecycle;

/// <summary>
/// Counts every request in and out of <see cref="DrainState"/> (the drain waits for them) and, while
/// draining, answers a new gRPC call with <c>UNAVAILABLE</c> before it reaches its method.
/// </summary>
internal sealed class DrainMiddleware(RequestDelegate next, DrainState drain)
{
    /// <summary>The status detail of a call refused or ended by the drain.</summary>
    public const string ShuttingDown = "The broker is shutting down; try another.";

    public async Task InvokeAsync(HttpContext context)
    {
        if (drain.IsDraining && GrpcProtocol.IsGrpcContentType(context.Request.ContentType))
        {
            ServerCallHandler.WriteTrailersOnly(context, new Status(StatusCode.Unavailable, ShuttingDown), null);
            return;
        }

        drain.Enter();
        try
        {
            await next(context);
        }
        finally
        {
            drain.Exit();
        }
    }
}
