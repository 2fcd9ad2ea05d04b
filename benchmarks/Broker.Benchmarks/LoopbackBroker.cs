using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Benchmarks;

/// <summary>The real broker (AddBroker/MapBroker) on Kestrel at 127.0.0.1, gRPC on its own HTTP/2 port, logging off.</summary>
internal sealed class LoopbackBroker : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackBroker(WebApplication app, Uri grpcAddress)
    {
        _app = app;
        GrpcAddress = grpcAddress;
    }

    public Uri GrpcAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LoopbackBroker> StartAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        ListenOptions? grpc = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, o =>
            {
                o.Protocols = HttpProtocols.Http2;
                grpc = o;
            });
        });
        builder.Services.AddBroker(builder.Configuration);
        var app = builder.Build();
        app.MapBroker();
        await app.StartAsync();
        return new LoopbackBroker(app, new Uri($"http://127.0.0.1:{grpc!.IPEndPoint!.Port}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
