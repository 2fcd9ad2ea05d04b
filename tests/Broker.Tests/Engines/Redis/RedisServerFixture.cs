using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using Broker.Engines.Redis;
using Broker.Engines;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Broker.Tests.Engines.Redis;

/// <summary>
/// A redis-server of the tests' own, on a free port, with no persistence; killed at the end. Never the
/// machine's Redis on 6379. Shared by the Redis test classes through <see cref="RedisCollection"/>.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private Process? _server;

    public int Port { get; private set; }

    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A plain client for the tests' own look and pokes (admin: CLIENT KILL).</summary>
    public ConnectionMultiplexer Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Port = FreePort();
        _server = Process.Start(new ProcessStartInfo("redis-server", ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start (test.sh installs it).");
        _server.OutputDataReceived += static (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // Polling with a deadline: the server gives no signal when it listens.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                Admin = await ConnectionMultiplexer.ConnectAsync($"{Configuration},allowAdmin=true,abortConnect=true,connectTimeout=1000");
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (Admin is not null)
        {
            await Admin.DisposeAsync();
        }

        if (_server is { HasExited: false })
        {
            Continue();  // a stopped process ignores SIGKILL until continued on some kernels' process groups
            _server.Kill();
            await _server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _server?.Dispose();
    }

    /// <summary>Freezes Redis (SIGSTOP): connections stay open and nothing answers.</summary>
    public void Stop() => Signal("STOP");

    /// <summary>Thaws Redis (SIGCONT).</summary>
    public void Continue() => Signal("CONT");

    /// <summary>Makes a Redis engine on this server; <paramref name="configure"/> adjusts its options.</summary>
    public RedisEngine CreateEngine(TimeProvider? time = null, Action<RedisEngineOptions>? configure = null, string prefix = "test", Microsoft.Extensions.Logging.ILoggerFactory? logs = null)
    {
        var options = new RedisEngineOptions { Configuration = Configuration, Prefix = prefix };
        configure?.Invoke(options);
        return new RedisEngine(Options.Create(options), time ?? TimeProvider.System, (logs ?? NullLoggerFactory.Instance).CreateLogger<RedisEngine>());
    }

    /// <summary>Makes and starts an engine that delivers to <paramref name="handler"/>.</summary>
    public async Task<RedisEngine> StartEngineAsync(IEngineHandler handler, TimeProvider? time = null, Action<RedisEngineOptions>? configure = null, Microsoft.Extensions.Logging.ILoggerFactory? logs = null)
    {
        var engine = CreateEngine(time, configure, logs: logs);
        await engine.StartAsync(handler, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        // A start gives the first liveness probe 5 s and then goes on unhealthy (serving /readyz 503 until a probe comes
        // back); on a CI machine running every suite at once that happened. The tests want a working engine: wait for it.
        if (!await WaitUntilHealthyAsync(engine, TimeSpan.FromSeconds(15)))
        {
            await engine.DisposeAsync();
            throw new TimeoutException("The engine's liveness probe did not come back within 15 s of its start.");
        }

        return engine;
    }

    /// <summary>
    /// Waits until <paramref name="engine"/> is healthy (a liveness probe came back); false after <paramref name="within"/>.
    /// A poll: the engine has no awaitable "healthy".
    /// </summary>
    public static async Task<bool> WaitUntilHealthyAsync(IEngine engine, TimeSpan within)
    {
        var waited = Stopwatch.StartNew();
        while (!engine.IsHealthy)
        {
            if (waited.Elapsed > within)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _server!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit(5000);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The test classes that share one <see cref="RedisServerFixture"/> (and so run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "Redis";
}
