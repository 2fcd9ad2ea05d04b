using Broker.Core;
using Broker.Dashboard;
using Broker.Demo;
using Broker.Diagnostics;
using Broker.Grpc;
using Broker.Lifecycle;
using Broker.Sessions;
using Broker.Stats;
using Broker.WebSockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the broker's services.</summary>
public static class BrokerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the broker: options bound from the <c>Broker</c> section and validated at start, the core,
    /// the engine and the transports.
    /// </summary>
    public static IServiceCollection AddBroker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddBrokerCore(configuration);
        services.AddBrokerLifecycle(configuration);
        services.AddBrokerSessions(configuration);
        services.AddBrokerWebSockets(configuration);
        services.AddOptions<DemoOptions>().Bind(configuration.GetSection(DemoOptions.SectionName));
        services.AddBrokerGrpc(configuration);
        // Kestrel's own settings (Kestrel:Limits:*, Kestrel:Limits:Http2:*, AddServerHeader …) from configuration, bound
        // as the ASP.NET Core docs bind them: WebApplication reads only Kestrel:Endpoints by itself, so without this a
        // configured limit was silently ignored. After AddBrokerGrpc, so a configured value wins over its HTTP/2 defaults.
        services.Configure<KestrelServerOptions>(configuration.GetSection("Kestrel"));
        services.AddBrokerStats(configuration);
        services.AddBrokerDashboard(configuration);
        services.AddBrokerTelemetry(configuration);
        // HTTP replies (POST /session, /tickets, the demo sign-in) escape as the WebSocket frames do:
        // readable error messages, no \u0027 for an apostrophe.
        services.ConfigureHttpJsonOptions(static json => json.SerializerOptions.Encoder = WireJsonEncoder.Instance);
        // One thread-pool hop less per send and per receive. At 100 publications/s to 1,000 sockets every
        // delivery is its own send; back to back, CPU per delivery went from 6.7 to 5.7 µs and p99 from 21
        // to 11 ms (docs/performance.md).
        services.AddOptions<SocketTransportOptions>()
            .Configure<IOptions<BrokerOptions>>(static (socket, broker) => socket.UnsafePreferInlineScheduling = broker.Value.InlineSocketScheduling);
        return services;
    }
}
