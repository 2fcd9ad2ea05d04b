using System.Diagnostics;
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

    // Debian's redis-tools, a dependency of its redis-server package.
    private const string Cli = "/usr/bin/redis-cli";

    private RedisProcess(ChildProcess process, int port)
    {
        Process = process;
        Port = port;
        Configuration = $"127.0.0.1:{port}";
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

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

    /// <summary>
    /// Runs one command with redis-cli (as an operator would, from outside the brokers), e.g.
    /// <c>DEL k1 k2</c>; returns its reply as redis-cli prints it (<c>2</c>), trimmed.
    /// </summary>
    public async Task<string> CommandAsync(TimeSpan timeout, params string[] command)
    {
        var start = new ProcessStartInfo(Cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), .. command])
        {
            start.ArgumentList.Add(argument);
        }

        using var cli = System.Diagnostics.Process.Start(start)!;
        try
        {
            var output = cli.StandardOutput.ReadToEndAsync();
            var error = cli.StandardError.ReadToEndAsync();
            await cli.WaitForExitAsync().WaitAsync(timeout);
            if (cli.ExitCode != 0)
            {
                throw new InvalidOperationException($"redis-cli {string.Join(' ', command)} exited with {cli.ExitCode}: {await error}");
            }

            return (await output).Trim();
        }
        finally
        {
            if (!cli.HasExited)
            {
                cli.Kill();
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
