using System.Globalization;
using System.Reflection;
using Broker.Sdk;

namespace Broker.ClusterTests.Infrastructure;

/// <summary>
/// One broker node: the built src/Broker run as <c>dotnet Broker.dll</c>, configured through environment
/// variables only (as an operator would), on two free loopback ports. Started when <c>/readyz</c> answers 200;
/// killed (SIGKILL) when disposed.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    /// <summary>How long a node may take to become ready: a cold start of the runtime on a loaded two-core machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>src/Broker's output for this configuration (the project file writes it into the assembly).</summary>
    public static readonly string BrokerDll = typeof(BrokerProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "BrokerDll").Value!;

    private readonly HttpClient _http;
    private BrokerClient? _client;

    private BrokerProcess(string name, ChildProcess process, int webPort, int grpcPort)
    {
        Name = name;
        Process = process;
        WebAddress = new Uri($"http://127.0.0.1:{webPort}/");
        GrpcAddress = new Uri($"http://127.0.0.1:{grpcPort}/");
        _http = CreateWebClient();
    }

    /// <summary>The node's name (<c>Broker:NodeName</c>).</summary>
    public string Name { get; }

    /// <summary>The process: <see cref="ChildProcess.Kill"/> is a crash.</summary>
    public ChildProcess Process { get; }

    /// <summary>HTTP/1.1: the HTTP endpoints and WebSockets.</summary>
    public Uri WebAddress { get; }

    /// <summary><c>ws://…/ws</c>.</summary>
    public Uri WebSocketAddress => new UriBuilder(WebAddress) { Scheme = "ws", Path = "/ws" }.Uri;

    /// <summary>HTTP/2 cleartext: gRPC.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>A gRPC client of this node (public SDK API), made on first use and disposed with the node.</summary>
    public BrokerClient Client => _client ??= new BrokerClient(new BrokerClientOptions { Address = GrpcAddress });

    /// <summary>
    /// Starts a node with <paramref name="settings"/> (configuration keys, <c>Broker:Engine</c>; written to the
    /// environment as <c>Broker__Engine</c>) and waits until it is ready. A port taken meanwhile by someone else
    /// makes the process exit at start: then it starts again on other ports.
    /// </summary>
    public static async Task<BrokerProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings)
    {
        for (int attempt = 1; ; attempt++)
        {
            int web = FreePort.Next();
            int grpc = FreePort.Next();
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["DOTNET_ENVIRONMENT"] = "Production",
                ["Kestrel__Endpoints__Web__Url"] = $"http://127.0.0.1:{web}",
                ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpc}",
                ["Broker__NodeName"] = name,
                ["Logging__Console__FormatterName"] = "simple",
            };
            foreach (var (key, value) in settings)
            {
                environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            var process = ChildProcess.Start(name, "dotnet", [BrokerDll], environment, Path.GetDirectoryName(BrokerDll));
            var node = new BrokerProcess(name, process, web, grpc);
            try
            {
                await node.WaitReadyAsync(StartTimeout);
                return node;
            }
            catch (Exception) when (process.HasExited && attempt < 3 && process.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await node.DisposeAsync();
            }
            catch
            {
                var output = process.Output;
                await node.DisposeAsync();
                throw new InvalidOperationException($"{name} did not become ready:\n{output}");
            }
        }
    }

    /// <summary>An HTTP/1.1 client for <see cref="WebAddress"/> with the given cookie jar (none: cookies not kept).</summary>
    public HttpClient CreateWebClient(CookieContainer? cookies = null) =>
        new(new SocketsHttpHandler { UseCookies = cookies is not null, CookieContainer = cookies ?? new CookieContainer() })
        {
            BaseAddress = WebAddress,
            Timeout = BrokerServer.DefaultTimeout,
        };

    /// <summary>The status of <c>GET /readyz</c>; null when the node does not answer within a second.</summary>
    public async Task<HttpStatusCode?> ReadyzAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            using var response = await _http.GetAsync("/readyz", timeout.Token);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Polls <c>/readyz</c> until it answers 200: the broker says when it is ready only there. Fails at once when
    /// the process exits, and after <paramref name="timeout"/>.
    /// </summary>
    public Task WaitReadyAsync(TimeSpan timeout) => WaitForReadyzAsync(HttpStatusCode.OK, timeout);

    /// <summary>Polls <c>/readyz</c> (every 50 ms) until it answers <paramref name="status"/>; returns how long that took.</summary>
    public async Task<TimeSpan> WaitForReadyzAsync(HttpStatusCode status, TimeSpan timeout)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited.");
            }

            if (await ReadyzAsync() == status)
            {
                return started.Elapsed;
            }

            if (started.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name}: /readyz did not answer {(int)status} within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
            }

            await Task.Delay(50);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _http.Dispose();
        await Process.DisposeAsync();
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
