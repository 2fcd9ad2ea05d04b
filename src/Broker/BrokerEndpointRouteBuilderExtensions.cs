using Broker.Demo;
using Broker.Sessions;
using Broker.WebSockets;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the broker's HTTP, WebSocket and gRPC endpoints.</summary>
public static class BrokerEndpointRouteBuilderExtensions
{
    /// <summary>Maps every endpoint the broker serves (PROTOCOL.md, "HTTP endpoints").</summary>
    public static WebApplication MapBroker(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // wwwroot: /broker.js (the browser client) and the demo page at /.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapGet("/healthz", static () => Results.Text("ok"));
        app.MapBrokerSessions();
        app.MapBrokerWebSockets();
        app.MapBrokerDemo();
        app.MapGrpcTransport();
        return app;
    }
}
