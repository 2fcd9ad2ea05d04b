using System.Diagnostics;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Broker.FunctionalTests.Sessions;

/// <summary>
/// A real, private redis-server for the tests of the <c>Redis</c> collection: started on a free loopback port
/// with no persistence (<c>--save '' --appendonly no</c>), killed when the collection ends. Never the system's
/// Redis. Tests keep apart by using a fresh <see cref="NewPrefix"/> each.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    // test.sh installs Debian's redis-server here.
    private const string Executable = "/usr/bin/redis-server";

    private Process? _process;

    /// <summary>The StackExchange.Redis configuration string of this server, e.g. <c>127.0.0.1:40123</c>.</summary>
    public string Configuration { get; private set; } = "";

    /// <summary>A connection for the tests' own look at the keys (each "node" under test makes its own).</summary>
    public ConnectionMultiplexer Connection { get; private set; } = null!;

    /// <summary>The port to listen on; 0 (default): a free one. Set it to start a server where a broker already looks for one.</summary>
    public int Port { get; init; }

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => "test-" + Guid.NewGuid().ToString("N");

    /// <summary>A new connection, as another broker process would have.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration).WaitAsync(BrokerServer.DefaultTimeout);

    public async Task InitializeAsync()
    {
        var port = Port == 0 ? FreePort() : Port;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }

            output.Enqueue(line.Data);
            // redis-server says this once it listens.
            if (line.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        _process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited: " + string.Join('\n', output)));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await ready.Task.WaitAsync(BrokerServer.DefaultTimeout);

        Configuration = $"127.0.0.1:{port}";
        Connection = await ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.DisposeAsync();
        }

        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(BrokerServer.DefaultTimeout);
        }

        _process?.Dispose();
    }

    /// <summary>Freezes the server (SIGSTOP): its sockets stay open and nothing answers, as a stalled or partitioned Redis.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Lets a frozen server go on (SIGCONT).</summary>
    public void Resume() => Signal("CONT");

    /// <summary>Every key under <paramref name="prefix"/> and its value as text (strings, hashes, lists), for "never in clear" checks.</summary>
    public async Task<string> DumpAsync(string prefix)
    {
        var db = Connection.GetDatabase();
        var server = Connection.GetServer(Connection.GetEndPoints()[0]);
        var dump = new System.Text.StringBuilder();
        await foreach (var key in server.KeysAsync(pattern: prefix + ":*"))
        {
            dump.Append(key.ToString()).Append(" = ");
            var type = await db.KeyTypeAsync(key).WaitAsync(BrokerServer.DefaultTimeout);
            switch (type)
            {
                case RedisType.String:
                    dump.Append(await db.StringGetAsync(key).WaitAsync(BrokerServer.DefaultTimeout));
                    break;
                case RedisType.Hash:
                    foreach (var field in await db.HashGetAllAsync(key).WaitAsync(BrokerServer.DefaultTimeout))
                    {
                        dump.Append(field.Name).Append(':').Append(field.Value).Append(' ');
                    }

                    break;
                case RedisType.List:
                    dump.AppendJoin(' ', await db.ListRangeAsync(key).WaitAsync(BrokerServer.DefaultTimeout));
                    break;
            }

            dump.AppendLine();
        }

        return dump.ToString();
    }

    // kill(1): .NET has no API for SIGSTOP and SIGCONT (Process.Kill sends only SIGKILL).
    private void Signal(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("The server is not started.");
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (!kill.WaitForExit(5000) || kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {process.Id} failed.");
        }
    }

    /// <summary>A loopback port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The tests that share one <see cref="RedisServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServer>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Redis";
}
