using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Broker.Grpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.InteropTests;

/// <summary>
/// Real Kestrel on 127.0.0.1:0 serving <see cref="EchoService"/> with Grpc.AspNetCore, set up as the broker sets up
/// its gRPC endpoint (its HTTP/2 limits, PROTOCOL.md's 4 MiB request limit).
/// </summary>
public sealed class KestrelEchoServer : IAsyncLifetime
{
    private WebApplication? _app;

    public EchoService Echo { get; } = new();

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>A TLS endpoint (HTTP/1.1 and HTTP/2, negotiated by ALPN) with a self-signed certificate for localhost.</summary>
    public Uri TlsAddress { get; private set; } = new("https://localhost");

    /// <summary>The TLS endpoint's certificate, for clients to trust.</summary>
    public X509Certificate2 Certificate { get; } = TestCertificate.Create();

    /// <summary>host:port, as gRPC targets are written.</summary>
    public string Target { get; private set; } = string.Empty;

    public Uri Address => new("http://" + Target);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        // The broker's appsettings.json is copied next to the tests and names fixed Kestrel ports: ignore it.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(Logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        ListenOptions? http2 = null;
        ListenOptions? tls = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Cleartext HTTP/2 needs an HTTP/2-only endpoint: h2c is by prior knowledge, there is no ALPN.
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => (http2 = listen).Protocols = HttpProtocols.Http2);
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen =>
            {
                (tls = listen).Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(Certificate);
            });
        });
        builder.Services.AddGrpc(static grpc => grpc.MaxReceiveMessageSize = GrpcServiceCollectionExtensions.MaxReceiveMessageSize);
        builder.Services.Configure<KestrelServerOptions>(static kestrel => kestrel.ConfigureGrpcLimits());
        builder.Services.AddSingleton(Echo);
        _app = builder.Build();
        _app.MapGrpcService<EchoService>();
        await _app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        // Kestrel writes the bound port back into each ListenOptions.
        Target = $"127.0.0.1:{http2!.IPEndPoint!.Port}";
        TlsAddress = new Uri($"https://localhost:{tls!.IPEndPoint!.Port}");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await _app.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        Certificate.Dispose();
    }
}
