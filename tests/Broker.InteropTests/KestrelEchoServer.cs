using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.InteropTests;

/// <summary>Real Kestrel on 127.0.0.1:0, HTTP/2 cleartext only, serving <see cref="EchoService"/> through our transport.</summary>
public sealed class KestrelEchoServer : IAsyncLifetime
{
    private WebApplication? _app;

    public EchoService Echo { get; } = new();

    /// <summary>host:port, as gRPC targets are written.</summary>
    public string Target { get; private set; } = string.Empty;

    public Uri Address => new("http://" + Target);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // The broker's appsettings.json is copied next to the tests and names fixed Kestrel ports: ignore it.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(static kestrel =>
            // Cleartext HTTP/2 needs an HTTP/2-only endpoint: h2c is by prior knowledge, there is no ALPN.
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, static listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpcTransport();
        builder.Services.AddSingleton(Echo);
        builder.Services.AddGrpcTransportService<EchoService>(static echo => echo.Bind());
        _app = builder.Build();
        _app.MapGrpcTransport();
        await _app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Target = new Uri(address).Authority;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _app.DisposeAsync();
        }
    }
}
