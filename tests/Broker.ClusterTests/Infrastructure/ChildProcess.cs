using System.Collections.Concurrent;
using System.Diagnostics;

namespace Broker.ClusterTests.Infrastructure;

/// <summary>
/// A process a test started (redis-server, a broker node): its output kept for failure messages, signals
/// (SIGSTOP, SIGCONT, SIGKILL), and killed when disposed. Every live one is also killed when the test host
/// exits, so a test that fails, times out or is cancelled leaves nothing running.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    // The last lines only: enough to say why a process failed without keeping a chatty broker's whole log.
    private const int KeptLines = 200;

    private static readonly ConcurrentDictionary<ChildProcess, bool> Live = new();

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += static (_, _) =>
        {
            foreach (var child in Live.Keys)
            {
                child.Kill();
            }
        };
    }

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>What the test calls it (<c>redis</c>, <c>node-a</c>).</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Raised with each line the process writes (stdout or stderr), on a thread-pool thread.</summary>
    public event Action<string>? Line;

    /// <summary>The process's last lines of output, for a failure message.</summary>
    public string Output => $"--- {Name} (pid {_process.Id}) ---\n" + string.Join('\n', _output);

    /// <summary>
    /// Starts <paramref name="fileName"/> with <paramref name="arguments"/> and <paramref name="environment"/> added to
    /// ours; <paramref name="onLine"/> sees every line from the first.
    /// </summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, Action<string>? onLine = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process);
        child.Line += onLine;
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        Live[child] = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Freezes the process (SIGSTOP): its sockets stay open and nothing answers.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Thaws the process (SIGCONT).</summary>
    public void Resume() => Signal("CONT");

    /// <summary>SIGKILL: the process dies without a word (no drain, no goodbye to Redis).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>Waits for the process to end.</summary>
    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    /// <summary>Kills the process (continued first, should it be stopped) and waits for it to end.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                Resume();
                Kill();
                await WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            Live.TryRemove(this, out _);
            _process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptLines && _output.TryDequeue(out _))
        {
        }

        Line?.Invoke(line);
    }

    // kill(1): .NET has no API for SIGSTOP and SIGCONT (Process.Kill sends only SIGKILL).
    private void Signal(string signal)
    {
        if (_process.HasExited)
        {
            return;
        }

        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (!kill.WaitForExit(5000) || kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed.");
        }
    }
}
