using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Broker.WebSockets;

/// <summary>
/// Enforces <see cref="WebSocketTransportOptions.WriteTimeout"/> for every socket with one shared timer:
/// each tick aborts the sockets whose current send started longer than the timeout ago. A per-send
/// deadline (arming a <see cref="CancellationTokenSource"/> before each send and resetting it after) cost
/// two timer-queue operations and a token registration per send, which at 100 publications/s to 1,000
/// sockets is per delivery; here a send costs two writes of a field. A blocked write is caught between
/// <c>WriteTimeout</c> and <c>WriteTimeout</c> plus one tick (a quarter of the timeout, at most a second).
/// </summary>
internal sealed class WriteWatchdog : IDisposable
{
    private readonly ConcurrentDictionary<WebSocketWriter, byte> _writers = new(ReferenceEqualityComparer.Instance);
    private readonly TimeProvider _time;
    private readonly ITimer _timer;

    /// <summary>Starts the shared timer.</summary>
    public WriteWatchdog(TimeProvider time, IOptions<WebSocketTransportOptions> options)
    {
        _time = time;
        var period = TickFor(options.Value.WriteTimeout);
        _timer = time.CreateTimer(static s => ((WriteWatchdog)s!).CheckNow(), this, period, period);
    }

    /// <summary>How often the watchdog looks: a quarter of the timeout, between 10 ms and 1 s.</summary>
    public static TimeSpan TickFor(TimeSpan writeTimeout) =>
        TimeSpan.FromTicks(Math.Clamp(writeTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));

    /// <summary>Watches <paramref name="writer"/> until <see cref="Forget"/>.</summary>
    public void Watch(WebSocketWriter writer) => _writers.TryAdd(writer, 0);

    /// <summary>Stops watching <paramref name="writer"/>.</summary>
    public void Forget(WebSocketWriter writer) => _writers.TryRemove(writer, out _);

    /// <inheritdoc/>
    public void Dispose() => _timer.Dispose();

    /// <summary>One tick: aborts every watched socket whose send is overdue. The timer calls it; tests may too.</summary>
    internal void CheckNow()
    {
        long now = _time.GetTimestamp();
        // Enumerating the dictionary itself takes no lock and copies nothing (its Keys property would).
        foreach (var (writer, _) in _writers)
        {
            writer.AbortIfOverdue(now);
        }
    }
}
