using System.Collections.Concurrent;
using System.Diagnostics;

namespace Broker.InteropTests;

/// <summary>python/server.py (grpcio) on 127.0.0.1 with a free port; killed on dispose.</summary>
public sealed class PythonEchoServer : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;
    private Task? _stdout;

    public Uri Address { get; private set; } = new("http://127.0.0.1");

    /// <summary>Completes when the server reports that the call named <paramref name="callId"/> ended early.</summary>
    public Task Cancelled(string callId) => Signal(callId).Task;

    public async Task InitializeAsync()
    {
        var stubs = await Python.StubDirectoryAsync().WaitAsync(TimeSpan.FromSeconds(60));
        _process = Process.Start(Python.StartInfo(Python.ScriptPath("server.py"), stubs))!;
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginErrorReadLine();
        _stdout = Task.Run(ReadOutputAsync);
        var port = await _port.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Address = new Uri($"http://127.0.0.1:{port}");
    }

    public async Task DisposeAsync()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        if (_stdout is not null)
        {
            await _stdout.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private async Task ReadOutputAsync()
    {
        while (await _process!.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("PORT ", StringComparison.Ordinal))
            {
                _port.TrySetResult(int.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture));
            }
            else if (line.StartsWith("CANCELLED ", StringComparison.Ordinal))
            {
                Signal(line["CANCELLED ".Length..]).TrySetResult();
            }
        }

        _port.TrySetException(new InvalidOperationException("python server exited before reporting its port."));
    }

    private TaskCompletionSource Signal(string callId) =>
        _cancelled.GetOrAdd(callId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
