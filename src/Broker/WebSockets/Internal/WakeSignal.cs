using System.Threading.Tasks.Sources;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// Wakes a connection's writer loop. Many producers (fan-out on publisher threads, the reader loop,
/// timers) signal; one loop waits. A flag collapses a burst of signals into one wake-up, so under load a
/// delivery costs one read of the flag. The wait is a reusable value-task source: no allocation per
/// wake-up, and about a tenth of the memory of the <c>Channel&lt;bool&gt;</c> it replaces (a heap
/// snapshot of 10,000 idle sockets showed 730 bytes per socket in that channel).
/// </summary>
/// <remarks>
/// The signal queues the loop's wake-up itself, to the thread pool's global queue (first in, first out), instead of
/// letting <see cref="ManualResetValueTaskSourceCore{TResult}"/> run the continuation asynchronously: that queues it
/// with <c>preferLocal: true</c>, onto the signalling thread's local queue, which that thread pops last in, first out.
/// A fan-out wakes a thousand writers from one thread, so the writers woken first were served last, behind every
/// writer woken after them and those the next publications woke: the load test's p99 paid, not its p50
/// (docs/performance.md, "Fair wake-ups").
/// </remarks>
internal sealed class WakeSignal : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private const int None = 0;      // no wake-up pending, nobody waiting
    private const int Released = 1;  // a wake-up is pending for the loop's next wait
    private const int Waiting = 2;   // the loop waits

    // Synchronous continuations: the only completer is Execute, on a pool thread of its own, so the writer loop still
    // never runs on a publisher's thread.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    private int _signaled;
    private int _state;
    private volatile bool _stopped;

    /// <summary>Wakes the loop (if it is not already due to wake).</summary>
    public void Signal()
    {
        // A plain read first: under load the flag is already set, and an interlocked exchange on a line
        // the writer's core also writes would cost a cache-line transfer per delivery. A stale 1 cannot
        // lose a wake-up: the loop clears the flag with a full fence before it reads the queues, and every
        // producer queues its message with a full fence (a lock) before this read, so either the loop
        // sees the message or the producer sees the cleared flag.
        if (Volatile.Read(ref _signaled) == 0 && Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            Release();
        }
    }

    /// <summary>
    /// Waits for a signal, then re-arms: a signal that arrives while the loop works wakes it again.
    /// False once <see cref="Stop"/> was called.
    /// </summary>
    public ValueTask<bool> WaitAsync()
    {
        if (_stopped)
        {
            return ValueTask.FromResult(false);
        }

        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, None) == Released)
        {
            return ValueTask.FromResult(Consume());
        }

        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>Ends the waits: the loop's next wait returns false.</summary>
    public void Stop()
    {
        _stopped = true;
        Release();
    }

    /// <inheritdoc/>
    bool IValueTaskSource<bool>.GetResult(short token)
    {
        _core.GetResult(token);
        return Consume();
    }

    /// <inheritdoc/>
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Marks a wake-up pending, and ends the loop's wait if it waits: only the releaser that finds it waiting completes it.</summary>
    private void Release()
    {
        if (Interlocked.Exchange(ref _state, Released) == Waiting)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Ends the loop's wait on a pool thread: the loop continues here, inline.</summary>
    void IThreadPoolWorkItem.Execute() => _core.SetResult(true);

    /// <summary>The loop takes the pending wake-up and re-arms the flag, both with full fences (see <see cref="Signal"/>).</summary>
    private bool Consume()
    {
        Interlocked.Exchange(ref _state, None);
        Interlocked.Exchange(ref _signaled, 0);
        return !_stopped;
    }
}
