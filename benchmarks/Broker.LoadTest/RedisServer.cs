using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Broker.LoadTest;

/// <summary>
/// A private redis-server for one cluster run: Debian's binary on a free loopback port, no persistence
/// (<c>--save '' --appendonly no</c>), killed at the end. It can be frozen (SIGSTOP) and thawed (SIGCONT): its
/// connections stay open and nothing answers, the way a Redis host stalls.
/// </summary>
internal sealed partial class RedisServer : IAsyncDisposable
{
    // Linux's signal numbers (x86-64 and arm64 alike).
    private const int SigCont = 18;
    private const int SigStop = 19;

    private readonly Process _process;
    private readonly OutputTail _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RedisServer(Process process, int port)
    {
        _process = process;
        Configuration = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");
    }

    /// <summary>The StackExchange.Redis configuration string of this server, e.g. <c>127.0.0.1:40123</c>.</summary>
    public string Configuration { get; }

    public static async Task<RedisServer> StartAsync(string executable, CancellationToken cancellationToken)
    {
        int port = ServerProcess.FreePort();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var server = new RedisServer(process, port);
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.Exited += (_, _) => server._ready.TrySetException(new InvalidOperationException("redis-server exited: " + server.Output()));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server._ready.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
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

    /// <summary>Freezes the server (SIGSTOP).</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>Thaws the server (SIGCONT).</summary>
    public void Resume() => Signal(SigCont);

    public string Output() => _output.ToString();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                Resume();  // a frozen process would hold its port until the kill is delivered
                _process.Kill();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception)
        {
            // already gone
        }

        _process.Dispose();
    }

    private void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        // redis-server says this once it listens.
        if (line.Contains("Ready to accept connections", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }

        _output.Add(line);
    }

    // .NET can send a process only SIGKILL (Process.Kill); stopping and continuing one takes libc's kill(2).
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
