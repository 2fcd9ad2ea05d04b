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
        var kestrelSection = configuration.GetSection("Kestrel");
        services.Configure<KestrelServerOptions>(kestrel => BindKestrel(kestrel, kestrelSection));
        services.AddBrokerStats(configuration);
        services.AddBrokerDashboard(configuration);
        services.AddBrokerTelemetry(configuration);
        // One thread-pool hop less per send and per receive. At 100 publications/s to 1,000 sockets every
        // delivery is its own send; back to back, CPU per delivery went from 6.7 to 5.7 µs and p99 from 21
        // to 11 ms (docs/performance.md).
        services.AddOptions<SocketTransportOptions>()
            .Configure<IOptions<BrokerOptions>>(static (socket, broker) => socket.UnsafePreferInlineScheduling = broker.Value.InlineSocketScheduling);
        return services;
    }

    /// <summary>
    /// Binds <c>Kestrel:Limits</c> and Kestrel's plain switches into <paramref name="kestrel"/>, what binding the whole
    /// section did. Not <c>section.Bind(kestrel)</c>: the configuration-binding source generator (on in Broker.csproj,
    /// so a Native AOT publish binds without reflection) refuses <see cref="KestrelServerOptions"/> as a whole (its
    /// <c>ConfigurationLoader</c> and <c>ApplicationServices</c> are not bindable, and it would emit code for the obsolete
    /// <c>EnableAltSvc</c>), but binds its limits and reads its switches; <c>Kestrel:Endpoints</c> is Kestrel's own.
    /// </summary>
    private static void BindKestrel(KestrelServerOptions kestrel, IConfigurationSection section)
    {
        section.GetSection("Limits").Bind(kestrel.Limits);
        kestrel.AddServerHeader = section.GetValue(nameof(KestrelServerOptions.AddServerHeader), kestrel.AddServerHeader);
        kestrel.AllowAlternateSchemes = section.GetValue(nameof(KestrelServerOptions.AllowAlternateSchemes), kestrel.AllowAlternateSchemes);
        kestrel.AllowHostHeaderOverride = section.GetValue(nameof(KestrelServerOptions.AllowHostHeaderOverride), kestrel.AllowHostHeaderOverride);
        kestrel.AllowResponseHeaderCompression = section.GetValue(nameof(KestrelServerOptions.AllowResponseHeaderCompression), kestrel.AllowResponseHeaderCompression);
        kestrel.AllowSynchronousIO = section.GetValue(nameof(KestrelServerOptions.AllowSynchronousIO), kestrel.AllowSynchronousIO);
        kestrel.DisableStringReuse = section.GetValue(nameof(KestrelServerOptions.DisableStringReuse), kestrel.DisableStringReuse);
    }
}
