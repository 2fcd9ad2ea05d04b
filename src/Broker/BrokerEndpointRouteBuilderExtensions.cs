namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the broker's HTTP, WebSocket and gRPC endpoints.</summary>
public static class BrokerEndpointRouteBuilderExtensions
{
    /// <summary>Maps every endpoint the broker serves (PROTOCOL.md, "HTTP endpoints").</summary>
    public static WebApplication MapBroker(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/healthz", static () => Results.Text("ok"));
        app.MapGrpcTransport();
        return app;
    }
}
