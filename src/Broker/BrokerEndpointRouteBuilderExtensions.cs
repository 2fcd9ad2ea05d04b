using Broker.Core;
using Broker.Dashboard;
using Broker.Demo;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Lifecycle.Internal;
using Broker.Lifecycle;
using Broker.Sessions;
using Broker.Stats;
using Broker.WebSockets;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the broker's HTTP, WebSocket and gRPC endpoints.</summary>
public static class BrokerEndpointRouteBuilderExtensions
{
    /// <summary>Maps every endpoint the broker serves (PROTOCOL.md, "HTTP endpoints").</summary>
    public static WebApplication MapBroker(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // First: every request is counted for the drain (gRPC calls are refused while draining by the gRPC
        // service's interceptor, with the status a gRPC client understands).
        app.UseMiddleware<DrainMiddleware>();
        app.UseMiddleware<Broker.Grpc.Internal.StreamResponseBuffer>();
        app.UseMiddleware<Broker.Grpc.Internal.PublishStreamRequestBuffer>();
        // wwwroot: /broker.js (the browser client) and the demo page at /.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapGet("/healthz", static () => Results.Text("ok"));
        app.MapGet("/readyz", static (DrainState drain, IEngine engine) =>
            drain.IsDraining ? Results.Text("draining", statusCode: StatusCodes.Status503ServiceUnavailable)
            : !engine.IsHealthy ? Results.Text("engine unreachable", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ready"));
        app.MapBrokerDashboard();
        app.MapGet("/stats", static (StatsSampler stats) => Results.Bytes(stats.Current().ToJson(), "application/json"));
        app.MapBrokerSessions();
        app.MapBrokerWebSockets();
        app.MapBrokerDemo();
        app.MapGrpcService<Broker.Grpc.Internal.BrokerGrpcService>();
        return app;
    }
}
