namespace Broker.LoadTest;

/// <summary>
/// One publishing connection with at most <c>inFlight</c> publications sent and not yet acknowledged: the same rule
/// for every server, each with its own notion of an ack (see the subclasses).
/// </summary>
internal abstract class Publisher : IAsyncDisposable
{
    private readonly int _inFlight;
    private long _errors;

    protected Publisher(int inFlight)
    {
        _inFlight = inFlight;
        Window = new SemaphoreSlim(inFlight);
    }

    public long Errors => Interlocked.Read(ref _errors) + ProtocolErrors;

    protected SemaphoreSlim Window { get; }

    protected virtual long ProtocolErrors => 0;

    /// <summary>Waits for room in the window, then sends.</summary>
    public abstract Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken);

    /// <summary>Waits until every publication sent has been acknowledged.</summary>
    public virtual async Task DrainAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < _inFlight; i++)
        {
            await Window.WaitAsync(cancellationToken);
        }

        Window.Release(_inFlight);
    }

    public abstract ValueTask DisposeAsync();

    protected void Failed() => Interlocked.Increment(ref _errors);
}
