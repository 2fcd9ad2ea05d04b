namespace Broker.Lifecycle;

/// <summary>
/// Whether this broker is draining (PROTOCOL.md, "Running the broker"): the one place the transports,
/// <c>/readyz</c> and the stats consult. Draining starts once, when the application begins to stop,
/// and never ends; <see cref="Token"/> is cancelled at that moment so long-lived connections can react.
/// </summary>
public sealed class DrainState : IDisposable
{
    private readonly CancellationTokenSource _draining = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _begun;

    /// <summary>True from the moment the application began to stop.</summary>
    public bool IsDraining => _draining.IsCancellationRequested;

    /// <summary>Cancelled when draining begins: register on it to close a long-lived connection.</summary>
    public CancellationToken Token => _draining.Token;

    /// <summary>Requests (including WebSockets and gRPC streams) still running; the drain waits for none to be left.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Starts the drain; the callbacks registered on <see cref="Token"/> run once, on whichever caller gets there
    /// first. Safe to call more than once and from several threads at once (SIGTERM's thread and the host's stop both
    /// do): every call returns with <see cref="IsDraining"/> true, so a <see cref="WhenIdleAsync"/> after it cannot miss
    /// the last request's exit.
    /// </summary>
    /// <returns>True for the one call that began the drain; false when another had.</returns>
    public bool BeginDrain()
    {
        bool first = Interlocked.Exchange(ref _begun, 1) == 0;
        try
        {
            // Every caller cancels, not only the first: the first may not have got this far yet, and a second call
            // returns at once with the token cancelled (its callbacks run on the first caller's thread, once).
            _draining.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed with the container after the host stopped: nothing is left to drain.
        }

        return first;
    }

    /// <summary>Counts a request in; pair with <see cref="Exit"/>.</summary>
    internal void Enter() => Interlocked.Increment(ref _inFlight);

    /// <summary>Counts a request out; the last one out while draining completes <see cref="WhenIdleAsync"/>.</summary>
    internal void Exit()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && IsDraining)
        {
            _idle.TrySetResult();
        }
    }

    /// <summary>
    /// Completes once no request is in flight after draining began (or at once if none is). Call it after
    /// <see cref="BeginDrain"/>: a request that ends before the drain begins is seen by the count, one that
    /// ends after by the signal.
    /// </summary>
    public Task WhenIdleAsync() => InFlight == 0 ? Task.CompletedTask : _idle.Task;

    /// <inheritdoc/>
    public void Dispose() => _draining.Dispose();
}
