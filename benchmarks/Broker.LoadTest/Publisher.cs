using System.Collections.Concurrent;

namespace Broker.LoadTest;

/// <summary>
/// One publishing connection with at most <c>inFlight</c> publications sent and not yet acknowledged: the same rule
/// for every server, each with its own notion of an ack (see the subclasses).
/// </summary>
internal abstract class Publisher : IAsyncDisposable
{
    private readonly int _inFlight;
    private readonly ConcurrentDictionary<long, byte> _refused = new();
    private long _errors;
    private long _refusedCount;

    protected Publisher(int inFlight)
    {
        _inFlight = inFlight;
        Window = new SemaphoreSlim(inFlight);
    }

    public long Errors => Interlocked.Read(ref _errors) + ProtocolErrors;

    /// <summary>
    /// The sequence numbers of publications the server answered with a failure (the publisher was told): a subset of
    /// <see cref="Errors"/>. In the Redis blip a refusal is the contract at work, not a lost message.
    /// </summary>
    public IReadOnlySet<long> Refused() => _refused.Keys.ToHashSet();

    /// <summary>How many publications were refused so far (cheap to read per publication, unlike <see cref="Refused()"/>).</summary>
    public long RefusedCount => Interlocked.Read(ref _refusedCount);

    protected SemaphoreSlim Window { get; }

    protected virtual long ProtocolErrors => 0;

    /// <summary>Waits for room in the window, then sends; <paramref name="sequence"/> (the payload's <c>seq</c>, -1 for none) names it in <see cref="Refused()"/>.</summary>
    public abstract Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken, long sequence = -1);

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

    /// <summary>Counts a failed publication; one with a sequence number is remembered in <see cref="Refused()"/>.</summary>
    protected void Failed(long sequence = -1)
    {
        Interlocked.Increment(ref _errors);
        Refuse(sequence);
    }

    /// <summary>Remembers a refused publication whose failure is already counted (a protocol error reply).</summary>
    protected void Refuse(long sequence)
    {
        if (sequence >= 0 && _refused.TryAdd(sequence, 0))
        {
            Interlocked.Increment(ref _refusedCount);
        }
    }
}
