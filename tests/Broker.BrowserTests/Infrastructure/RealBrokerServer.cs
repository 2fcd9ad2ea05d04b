using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// The real broker, composed as Program.cs does (AddBroker, MapBroker), on real Kestrel with both
/// endpoints on free loopback ports. Content root is src/Broker, so its appsettings.json (the chat
/// namespace) and wwwroot are the ones the product ships. <paramref name="settings"/> overrides any
/// key, e.g. <c>["Broker:Namespaces:chat:HistorySize"] = "10"</c> or the demo switch.
/// </summary>
public sealed class RealBrokerServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly WebApplication _app;

    private RealBrokerServer(WebApplication app, Uri baseUri, Uri grpcUri)
    {
        _app = app;
        BaseUri = baseUri;
        GrpcUri = grpcUri;
    }

    /// <summary>The web endpoint (HTTP/1.1: pages, /ws, /session, /tickets), with a trailing slash.</summary>
    public Uri BaseUri { get; }

    /// <summary>The gRPC endpoint (HTTP/2 cleartext), for a backend test double built on the SDK.</summary>
    public Uri GrpcUri { get; }

    /// <summary>The broker's services, for tests that reach into it.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the broker; <paramref name="settings"/> override its configuration.</summary>
    public static async Task<RealBrokerServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = RepoPaths.BrokerProject,
            WebRootPath = RepoPaths.WebRoot,
            EnvironmentName = "Development",
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Web:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0",
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Services.AddBroker(builder.Configuration);
        var app = builder.Build();
        app.MapBroker();
        await app.StartAsync().WaitAsync(StartTimeout);

        // Configuration sections come back sorted, so the bind order says nothing about which address
        // is which: the web endpoint is the one that answers HTTP/1.1.
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a.TrimEnd('/') + "/")).ToList();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Uri? web = null;
        foreach (var address in addresses)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(address, "healthz"));
                if (response.IsSuccessStatusCode) { web = address; break; }
            }
            catch (HttpRequestException)
            {
                // The HTTP/2-only gRPC endpoint refuses an HTTP/1.1 request.
            }
        }

        if (web is null)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException("no HTTP/1.1 endpoint among " + string.Join(", ", addresses));
        }

        return new RealBrokerServer(app, web, addresses.First(a => a != web));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(StartTimeout);
        await _app.DisposeAsync().AsTask().WaitAsync(StartTimeout);
    }
}
