using Broker.Grpc.Transport;
using Broker.Grpc;
using Broker.GrpcTransport;
using Broker.Lifecycle.Internal;
using Broker.Lifecycle;

namespace Broker.Grpc.Internal;

/// <summary>While the broker drains, answers a new gRPC call with <c>UNAVAILABLE</c> before it reaches its method (PROTOCOL.md: the client goes to another broker).</summary>
internal sealed class GrpcDrainMiddleware(RequestDelegate next, DrainState drain)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (drain.IsDraining && GrpcProtocol.IsGrpcContentType(context.Request.ContentType))
        {
            ServerCallHandler.WriteTrailersOnly(context, new Status(StatusCode.Unavailable, DrainMiddleware.ShuttingDown), null);
            return Task.CompletedTask;
        }

        return next(context);
    }
}
