using System.Globalization;

namespace Broker.ClusterTests.Infrastructure;

/// <summary>
/// A redis-server of the tests' own on a free loopback port, with no persistence (<c>--save '' --appendonly
/// no</c>): never the machine's Redis. Killed when disposed.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    // test.sh installs Debian's redis-server here.
    private const string Executable = "/usr/bin/redis-server";

    private RedisProcess(ChildProcess process, int port)
    {
        Process = process;
        Configuration = $"127.0.0.1:{port}";
    }

    /// <summary>The process: <see cref="ChildProcess.Pause"/> is Redis unreachable with its sockets open.</summary>
    public ChildProcess Process { get; }

    /// <summary>The StackExchange.Redis configuration string, <c>127.0.0.1:&lt;port&gt;</c>.</summary>
    public string Configuration { get; }

    /// <summary>Starts redis-server and waits until it accepts connections.</summary>
    public static async Task<RedisProcess> StartAsync(TimeSpan timeout)
    {
        int port = FreePort.Next();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = ChildProcess.Start("redis", Executable,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
            onLine: line =>
            {
                // redis-server writes this once it listens: a signal, not a guess.
                if (line.Contains("Ready to accept connections", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            });
        var redis = new RedisProcess(process, port);
        try
        {
            var exited = process.WaitForExitAsync(timeout);
            var first = await Task.WhenAny(ready.Task, exited).WaitAsync(timeout);
            if (first != ready.Task)
            {
                throw new InvalidOperationException("redis-server exited at start:\n" + process.Output);
            }
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }

        return redis;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
