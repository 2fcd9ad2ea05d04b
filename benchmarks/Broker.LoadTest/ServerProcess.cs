using System.Diagnostics;
using System.Net.Sockets;
using System.Net;

namespace Broker.LoadTest;

/// <summary>
/// A server under test as a child process on free loopback ports: started, sampled from /proc (CPU time, resident
/// and peak memory), killed at the end of its run.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly OutputTail _output = new();
    private readonly string? _tempDirectory;

    private ServerProcess(Process process, Uri webSocket, Uri? grpc, string? tempDirectory)
    {
        _process = process;
        WebSocket = webSocket;
        Grpc = grpc;
        _tempDirectory = tempDirectory;
        process.OutputDataReceived += (_, e) => _output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => _output.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The WebSocket base address (<c>ws://127.0.0.1:port</c>).</summary>
    public Uri WebSocket { get; }

    /// <summary>The broker's gRPC address, or null.</summary>
    public Uri? Grpc { get; }

    public int Id => _process.Id;

    /// <summary>
    /// Where the servers come from: the repository's build output in the load test's own configuration, or for the
    /// broker <paramref name="Broker"/> as <c>--broker</c> gave it (a <c>Broker.dll</c> or a native executable).
    /// </summary>
    public sealed record Paths(string Root, string Broker, string SignalRDll, string NatsServer, string RedisServer)
    {
        public static Paths Find(string? broker = null)
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Broker.sln")))
            {
                dir = dir.Parent;
            }

            if (dir is null)
            {
                throw new InvalidOperationException("Broker.sln not found above " + AppContext.BaseDirectory);
            }

#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            return new Paths(
                dir.FullName,
                broker ?? Path.Combine(dir.FullName, "src", "Broker", "bin", configuration, "net10.0", "Broker.dll"),
                Path.Combine(dir.FullName, "benchmarks", "SignalRServer", "bin", configuration, "net10.0", "SignalRServer.dll"),
                File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "/usr/bin/nats-server",
                "/usr/bin/redis-server");  // Debian's (test.sh installs it); never a Redis already running
        }

        /// <summary>Whether the cluster scenarios can run: they start a redis-server of their own.</summary>
        public bool HasRedis => File.Exists(RedisServer);

        public bool Has(ServerKind kind) => File.Exists(kind switch
        {
            ServerKind.Broker => Broker,
            ServerKind.SignalR => SignalRDll,
            _ => NatsServer,
        });
    }

    /// <summary>
    /// Starts <paramref name="kind"/> and waits until it listens. With <paramref name="redis"/> (a StackExchange.Redis
    /// configuration string) it is a cluster node on that Redis: the broker with <c>Broker:Engine=Redis</c> and
    /// <paramref name="historySize"/> kept per channel of the <c>bench</c> namespace, SignalR on its Redis backplane.
    /// <paramref name="settings"/>: more of the broker's configuration, as environment variables (the soak's namespace).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(ServerKind kind, Paths paths, CancellationToken cancellationToken, string? redis = null, int historySize = 0, IReadOnlyDictionary<string, string>? settings = null)
    {
        if (redis is not null && kind == ServerKind.Nats)
        {
            throw new ArgumentException("nats-server has no Redis backplane", nameof(kind));
        }

        int web = FreePort();
        int grpc = FreePort();
        string? temp = null;
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        switch (kind)
        {
            case ServerKind.Broker:
                // A Broker.dll runs on the shared runtime; a Native AOT publish is its own executable.
                if (paths.Broker.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                {
                    start.FileName = "dotnet";
                    start.ArgumentList.Add(paths.Broker);
                }
                else
                {
                    start.FileName = paths.Broker;
                }

                start.WorkingDirectory = Path.GetDirectoryName(paths.Broker);
                start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
                start.Environment["Kestrel__Endpoints__Web__Url"] = $"http://127.0.0.1:{web}";
                start.Environment["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{grpc}";
                start.Environment["Broker__AllowAnonymous"] = "true";
                start.Environment["Broker__Namespaces__bench__Subscribe"] = "anyone";
                // Every load-test socket comes from 127.0.0.1: the per-address limit (1,000 by default) would refuse
                // the 10,000 idle sockets, which measure the broker, not its guard against one client's flood.
                start.Environment["Broker__WebSocket__MaxConnectionsPerIp"] = "1000000";
                start.Environment["Logging__LogLevel__Default"] = "Warning";
                if (redis is not null)
                {
                    start.Environment["Broker__Engine"] = "Redis";
                    start.Environment["Broker__Redis__Configuration"] = redis;
                    start.Environment["Broker__Namespaces__bench__HistorySize"] = historySize.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                foreach (var (key, value) in settings ?? new Dictionary<string, string>())
                {
                    start.Environment[key] = value;
                }

                break;
            case ServerKind.SignalR:
                start.FileName = "dotnet";
                start.ArgumentList.Add(paths.SignalRDll);
                start.ArgumentList.Add($"http://127.0.0.1:{web}");
                if (redis is not null)
                {
                    start.ArgumentList.Add("--redis");
                    start.ArgumentList.Add(redis);
                }

                start.WorkingDirectory = Path.GetDirectoryName(paths.SignalRDll);
                start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
                break;
            default:
                temp = Directory.CreateTempSubdirectory("loadtest-nats-").FullName;
                var config = Path.Combine(temp, "nats.conf");
                await File.WriteAllTextAsync(config, $$"""
                    listen: "127.0.0.1:{{grpc}}"
                    websocket {
                      listen: "127.0.0.1:{{web}}"
                      no_tls: true
                    }
                    """, cancellationToken);
                start.FileName = paths.NatsServer;
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(config);
                break;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + start.FileName);
        var server = new ServerProcess(process, new Uri($"ws://127.0.0.1:{web}"), kind == ServerKind.Broker ? new Uri($"http://127.0.0.1:{grpc}") : null, temp);
        try
        {
            await server.WaitForPortAsync(web, cancellationToken);
            if (kind == ServerKind.Broker)
            {
                await server.WaitForPortAsync(grpc, cancellationToken);
                if (redis is not null)
                {
                    // A node on Redis listens before its engine is healthy (the first liveness probe has to come
                    // back); until then it answers unavailable, so the run starts at /readyz 200.
                    await server.WaitForReadyAsync(web, cancellationToken);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>User plus system CPU time so far.</summary>
    public TimeSpan CpuTime() => ProcFs.CpuTime(_process.Id);

    /// <summary>Peak resident memory (VmHWM), bytes.</summary>
    public long PeakRss() => ProcFs.Status(_process.Id, "VmHWM:");

    /// <summary>Resident memory now (VmRSS), bytes.</summary>
    public long Rss() => ProcFs.Status(_process.Id, "VmRSS:");

    public string Output() => _output.ToString();

    /// <summary>The entries the server logged at Error or Critical so far (the console logger's <c>fail:</c> and <c>crit:</c>).</summary>
    public IReadOnlyList<string> ErrorLines() => _output.Errors();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception)
        {
            // already gone
        }

        _process.Dispose();
        if (_tempDirectory is not null)
        {
            Directory.Delete(_tempDirectory, recursive: true);
        }
    }

    /// <summary>A loopback port free right now (the OS picks it; the server binds it a moment later).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitForPortAsync(int port, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Output()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    private async Task WaitForReadyAsync(int port, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Output()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // not answering yet, or too slowly (the client's 5 s timeout): ask again until the deadline
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"/readyz did not say ready within 30 s:\n{Output()}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
