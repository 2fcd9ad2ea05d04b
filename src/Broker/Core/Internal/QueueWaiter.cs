using System.Threading.Tasks.Sources;
using Broker.Core;

namespace Broker.Core.Internal;

/// <summary>
/// The one consumer's wait on a <see cref="SubscriberQueue"/>: a reusable value-task source, so a wait
/// allocates nothing (a cancellable wait allocates its token registration only). The queue decides
/// under its lock who ends a wait (<see cref="TakeWaiting"/>, exactly once per wait) and ends it outside
/// the lock (<see cref="Wake"/>); the consumer's continuation never runs on the waking thread, so fan-out
/// never pays for a subscriber's work.
/// </summary>
/// <remarks>
/// The completion goes to the thread pool's global queue, first in first out, as the WebSocket writer's
/// <c>WakeSignal</c> does and for the same reason (its remarks): a fan-out wakes many waiters from one thread, and
/// the local queue that <see cref="ManualResetValueTaskSourceCore{TResult}"/> would use serves them last in first out.
/// </remarks>
internal sealed class QueueWaiter : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private readonly Lock _queueLock;
    // Synchronous continuations: the only completer is Execute, on a pool thread of its own.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    private CancellationTokenRegistration _registration;
    private bool _waiting;
    // What Execute ends the wait with, set by Wake or Cancel (one of them per wait: TakeWaiting) before the work item is queued.
    private bool _readable;
    private OperationCanceledException? _cancelled;

    /// <summary>Creates the waiter of the queue guarded by <paramref name="queueLock"/>.</summary>
    public QueueWaiter(Lock queueLock) => _queueLock = queueLock;

    /// <summary>Starts a wait. Under the queue's lock, with no wait outstanding.</summary>
    public ValueTask<bool> Wait(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        _core.Reset();
        _waiting = true;
        if (cancellationToken.CanBeCanceled)
        {
            // A token already cancelled runs the callback right here; the lock is re-entrant, so the
            // callback still takes the wait and the returned task is cancelled.
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((QueueWaiter)state!).Cancel(token), this);
        }

        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>True (once) when a wait is outstanding, which the caller must then end with <see cref="Wake"/>. Under the queue's lock.</summary>
    public bool TakeWaiting()
    {
        if (!_waiting)
        {
            return false;
        }

        _waiting = false;
        return true;
    }

    /// <summary>Ends the wait taken by <see cref="TakeWaiting"/>: true when a message is waiting, false when the queue is done.</summary>
    public void Wake(bool readable)
    {
        _readable = readable;
        _cancelled = null;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Ends the wait on a pool thread: the consumer continues here, inline.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        if (_cancelled is { } cancelled)
        {
            _core.SetException(cancelled);
        }
        else
        {
            _core.SetResult(_readable);
        }
    }

    /// <inheritdoc/>
    bool IValueTaskSource<bool>.GetResult(short token)
    {
        _registration.Dispose();
        _registration = default;
        return _core.GetResult(token);
    }

    /// <inheritdoc/>
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Cancel(CancellationToken token)
    {
        bool mine;
        lock (_queueLock)
        {
            mine = TakeWaiting();
        }

        if (mine)
        {
            _cancelled = new OperationCanceledException(token);
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
