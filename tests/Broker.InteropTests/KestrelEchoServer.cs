using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.InteropTests;

/// <summary>Real Kestrel on 127.0.0.1:0, HTTP/2 cleartext only, serving <see cref="EchoService"/> through our transport.</summary>
public sealed class KestrelEchoServer : IAsyncLifetime
{
    private WebApplication? _app;

    public EchoService Echo { get; } = new();

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>An HTTP/1.1-only endpoint of the same app, to prove gRPC over HTTP/1.1 is refused.</summary>
    public Uri Http1Address { get; private set; } = new("http://127.0.0.1");

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
        ListenOptions? http1 = null;
        ListenOptions? tls = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Cleartext HTTP/2 needs an HTTP/2-only endpoint: h2c is by prior knowledge, there is no ALPN.
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => (http2 = listen).Protocols = HttpProtocols.Http2);
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => (http1 = listen).Protocols = HttpProtocols.Http1);
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen =>
            {
                (tls = listen).Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(Certificate);
            });
        });
        builder.Services.AddGrpcTransport();
        builder.Services.AddSingleton(Echo);
        builder.Services.AddGrpcTransportService<EchoService>(static echo => echo.Bind());
        _app = builder.Build();
        _app.MapGrpcTransport();
        // Misbehaving "servers" for the client's HTTP-to-gRPC status mapping.
        _app.MapPost("/bad.v1.Http/Status503", static context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        _app.MapPost("/bad.v1.Http/Html", static context =>
        {
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync("<html>proxy says hi</html>");
        });
        _app.MapPost("/bad.v1.Http/NoStatus", static async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(new byte[] { 0, 0, 0, 0, 0 });
        });
        await _app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        // Kestrel writes the bound port back into each ListenOptions.
        Target = $"127.0.0.1:{http2!.IPEndPoint!.Port}";
        Http1Address = new Uri($"http://127.0.0.1:{http1!.IPEndPoint!.Port}");
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
