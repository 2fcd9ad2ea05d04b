using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Testing;

/// <summary>
/// The real broker, composed exactly as <c>src/Broker/Program.cs</c> composes it
/// (<c>WebApplication.CreateBuilder</c>, <c>AddBroker</c>, <c>MapBroker</c>), on real Kestrel with its two
/// endpoints bound to <c>127.0.0.1:0</c>: <see cref="WebAddress"/> (HTTP/1.1: HTTP endpoints and WebSockets) and
/// <see cref="GrpcAddress"/> (HTTP/2 cleartext: gRPC). Every test gets its own server, so tests run in parallel.
/// </summary>
/// <example>
/// <code>
/// await using var server = await BrokerServer.StartAsync(new Dictionary&lt;string, string?&gt;
/// {
///     ["Broker:AllowedOrigins:0"] = "https://app.example",
/// });
/// using var client = server.CreateWebClient(new CookieContainer());
/// var reply = await client.PostAsync("/session", null).WaitAsync(BrokerServer.DefaultTimeout);
/// var tickets = server.Services.GetRequiredService&lt;TicketService&gt;();
/// Assert.False(server.Log.Contains("secret"));
/// </code>
/// </example>
public sealed class BrokerServer : IAsyncDisposable
{
    /// <summary>How long a test waits for any one step (start, a request, stop) before it fails.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long a stop may take past <see cref="DefaultTimeout"/>, when Kestrel aborts what did not close by then.</summary>
    private static readonly TimeSpan AbortAllowance = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private Task? _stopped;

    private BrokerServer(WebApplication app, Uri web, Uri grpc, CapturedLog log)
    {
        _app = app;
        WebAddress = web;
        GrpcAddress = grpc;
        Log = log;
    }

    /// <summary>The base address of the <c>Web</c> endpoint (HTTP/1.1), e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri WebAddress { get; }

    /// <summary>The WebSocket address of the <c>Web</c> endpoint's <c>/ws</c>, e.g. <c>ws://127.0.0.1:41234/ws</c>.</summary>
    public Uri WebSocketAddress => new UriBuilder(WebAddress) { Scheme = "ws", Path = "/ws" }.Uri;

    /// <summary>The base address of the <c>Grpc</c> endpoint (HTTP/2 cleartext), e.g. <c>http://127.0.0.1:41235/</c>.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>The broker's services (resolve <c>TicketService</c>, the engine, options …).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Every log entry the broker wrote, at every level (the console logger is off).</summary>
    public CapturedLog Log { get; }

    /// <summary>Starts a broker and waits until both endpoints listen.</summary>
    /// <param name="configuration">
    /// Configuration that overrides appsettings.json and environment variables, in ASP.NET Core key syntax
    /// (<c>Broker:Tickets:Ttl</c> = <c>00:00:05</c>, <c>Broker:AllowedOrigins:0</c> = <c>https://app.example</c>).
    /// The Kestrel endpoints are always replaced by loopback port 0; do not set them.
    /// </param>
    /// <param name="timeProvider">The broker's clock (e.g. <see cref="ManualTimeProvider"/>), or <see langword="null"/> for the system clock.</param>
    /// <param name="configure">
    /// A last hook on the builder, after <c>AddBroker</c>: replace a service, add a logger. Services registered
    /// here win over the broker's own singletons when resolved as one service.
    /// </param>
    /// <param name="webRootPath">
    /// The static files root (<c>broker.js</c>, the demo page), e.g. the repository's <c>src/Broker/wwwroot</c> so
    /// browser tests serve what the product ships; <see langword="null"/>: <c>wwwroot</c> under the test output.
    /// </param>
    /// <param name="cancellationToken">Cancels the start; <see cref="DefaultTimeout"/> applies as well.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">A setting failed the broker's start validation.</exception>
    public static async Task<BrokerServer> StartAsync(
        IReadOnlyDictionary<string, string?>? configuration = null,
        TimeProvider? timeProvider = null,
        Action<WebApplicationBuilder>? configure = null,
        string? webRootPath = null,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // Development turns on DI scope and build validation: a broken registration fails the test, not production.
            EnvironmentName = "Development",
            // The broker's name, as under `dotnet run`: Data Protection and static web assets key on it.
            ApplicationName = typeof(Program).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = webRootPath,
        });

        var settings = new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Web:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Web:Protocols"] = "Http1",
            ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Grpc:Protocols"] = "Http2",
            ["Logging:LogLevel:Default"] = "Debug",
        };
        foreach (var (key, value) in configuration ?? new Dictionary<string, string?>())
        {
            if (key.StartsWith("Kestrel:Endpoints:", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException("BrokerServer owns the Kestrel endpoints; read WebAddress and GrpcAddress instead.", nameof(configuration));
            }

            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);

        var log = new CapturedLog();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);

        // Port 0 picks a free port per endpoint; the endpoint's ListenOptions learns the real one at bind time,
        // which is how each bound address is told apart (the server's address list does not name endpoints).
        ListenOptions? web = null;
        ListenOptions? grpc = null;
        builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel
            .Configure(context.Configuration.GetSection("Kestrel"), reloadOnChange: false)
            .Endpoint("Web", endpoint => web = endpoint.ListenOptions)
            .Endpoint("Grpc", endpoint => grpc = endpoint.ListenOptions));

        builder.Services.AddBroker(builder.Configuration);
        if (timeProvider is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(timeProvider));
        }

        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapBroker();
        try
        {
            await app.StartAsync(cancellationToken).WaitAsync(DefaultTimeout, cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        if (web?.IPEndPoint is not { Port: > 0 } webEndPoint || grpc?.IPEndPoint is not { Port: > 0 } grpcEndPoint)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException("Kestrel did not bind the Web and Grpc endpoints.");
        }

        return new BrokerServer(app, Address(webEndPoint), Address(grpcEndPoint), log);
    }

    /// <summary>
    /// An HTTP/1.1 client for <see cref="WebAddress"/>: relative URIs, <see cref="DefaultTimeout"/>, and the given
    /// cookie jar (none: cookies are not kept). Dispose it in the test.
    /// </summary>
    public HttpClient CreateWebClient(CookieContainer? cookies = null) =>
        new(new SocketsHttpHandler { UseCookies = cookies is not null, CookieContainer = cookies ?? new CookieContainer() })
        {
            BaseAddress = WebAddress,
            Timeout = DefaultTimeout,
        };

    /// <summary>
    /// An HTTP/2 cleartext client for <see cref="GrpcAddress"/> (prior knowledge, as gRPC clients speak it), for
    /// raw requests; a gRPC test builds its channel on <see cref="GrpcAddress"/> instead.
    /// </summary>
    public HttpClient CreateGrpcHttpClient() =>
        new(new SocketsHttpHandler())
        {
            BaseAddress = GrpcAddress,
            Timeout = DefaultTimeout,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    /// <summary>
    /// Stops the broker as SIGTERM would (the drain runs: <c>/readyz</c> 503, sockets closed 1001, gRPC streams
    /// UNAVAILABLE), within <see cref="DefaultTimeout"/>. Call it without awaiting to watch the drain from clients.
    /// </summary>
    public Task StopAsync()
    {
        lock (_app)
        {
            return _stopped ??= StopCoreAsync();
        }
    }

    /// <summary>Stops the broker (graceful, within <see cref="DefaultTimeout"/>) unless stopped already, and releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        // The token is the host's shutdown timeout: when it fires, Kestrel aborts the connections that have not closed.
        // The wait is longer, so that abort gets to finish. A connection flooded with HTTP/2 streams until Kestrel
        // aborted it for its output queue (GrpcRapidResetTests) sometimes never completes Kestrel's graceful close,
        // with every request ended (the drain's count 0): 1 run in 25 under CPU load; it ends at the abort.
        using var stopping = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await _app.StopAsync(stopping.Token).WaitAsync(DefaultTimeout + AbortAllowance);
        }
        catch (TimeoutException error)
        {
            // Say what the stop waited for: the drain's count of requests still running and the last entries the
            // broker logged (the drain's own "Drained" line, Kestrel's connection events) name the culprit.
            var drain = _app.Services.GetService<Broker.Lifecycle.DrainState>();
            var last = Log.Entries.TakeLast(30).Select(static entry => $"  {entry.Level} {entry.Category} {entry.EventId.Name}: {entry.Message}");
            throw new TimeoutException(
                $"The broker did not stop within {(DefaultTimeout + AbortAllowance).TotalSeconds:0} s; requests still in the drain's count: "
                + $"{drain?.InFlight.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}. Last log entries:\n{string.Join('\n', last)}",
                error);
        }
    }

    private static Uri Address(IPEndPoint endPoint) => new($"http://{endPoint}/");
}
