namespace Broker.LoadTest;

/// <summary>
/// The live progress line on the terminal (standard error, rewritten in place twice a second). Quiet when standard
/// error is not a terminal, e.g. under the test runner: the per-run summary lines still go to the output.
/// </summary>
internal sealed class ProgressLine : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly DateTime _started = DateTime.UtcNow;
    private volatile string _label = "";
    private volatile Func<string> _detail = static () => "";
    private readonly Lock _console = new();
    private int _width;

    public ProgressLine(bool enabled)
    {
        _loop = enabled ? LoopAsync() : Task.CompletedTask;
    }

    public void Begin(string label) => _label = label;

    public void Set(string detail) => _detail = () => detail;

    public void Set(Func<string> detail) => _detail = detail;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>Clears the line so a summary line can be written in its place.</summary>
    public void Clear()
    {
        lock (_console)
        {
            if (_width > 0)
            {
                Console.Error.Write("\r" + new string(' ', _width) + "\r");
                _width = 0;
            }
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            string text;
            try
            {
                text = $"[{(DateTime.UtcNow - _started).TotalSeconds,5:0}s] {_label}  {_detail()}";
            }
            catch (Exception)
            {
                continue;  // a counter read mid-update; the next tick shows it
            }

            lock (_console)
            {
                int width = Math.Max(_width, text.Length);
                Console.Error.Write("\r" + text.PadRight(width));
                _width = width;
            }
        }
    }
}
