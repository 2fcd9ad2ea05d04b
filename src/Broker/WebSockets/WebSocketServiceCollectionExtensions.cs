using Broker.WebSockets.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.WebSockets;

/// <summary>Registers and maps the browser transport.</summary>
public static class WebSocketServiceCollectionExtensions
{
    /// <summary>Adds the WebSocket transport: options from <c>Broker:WebSocket</c> (validated at start) and the connection registry.</summary>
    public static IServiceCollection AddBrokerWebSockets(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<WebSocketTransportOptions>()
            .Bind(configuration.GetSection(WebSocketTransportOptions.SectionName))
            .Validate(static o => o.HelloTimeout > TimeSpan.Zero, "Broker:WebSocket:HelloTimeout must be a positive TimeSpan.")
            .Validate(static o => o.PingInterval > TimeSpan.Zero, "Broker:WebSocket:PingInterval must be a positive TimeSpan.")
            .Validate(static o => o.PongTimeout > TimeSpan.Zero, "Broker:WebSocket:PongTimeout must be a positive TimeSpan.")
            .Validate(static o => o.WriteTimeout > TimeSpan.Zero, "Broker:WebSocket:WriteTimeout must be a positive TimeSpan.")
            .Validate(static o => o.MaxSubscriptions > 0, "Broker:WebSocket:MaxSubscriptions must be greater than 0.")
            .Validate(static o => o.PublishRate > 0, "Broker:WebSocket:PublishRate must be greater than 0.")
            .Validate(static o => o.MaxMessageBytes >= 1024, "Broker:WebSocket:MaxMessageBytes must be at least 1024.")
            .Validate(static o => o.MaxConnections > 0, "Broker:WebSocket:MaxConnections must be greater than 0.")
            .Validate(static o => o.MaxConnectionsPerIp > 0, "Broker:WebSocket:MaxConnectionsPerIp must be greater than 0.")
            .Validate(static o => o.MaxFailedHellosPerIp > 0, "Broker:WebSocket:MaxFailedHellosPerIp must be greater than 0.")
            .ValidateOnStart();
        services.TryAddSingleton<WebSocketServices>();
        return services;
    }

    /// <summary>Maps <c>/ws</c>.</summary>
    public static WebApplication MapBrokerWebSockets(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWebSockets();
        app.Map("/ws", WebSocketEndpoint.HandleAsync);
        return app;
    }
}
