using Broker.Sdk;

namespace Broker.LoadTest;

/// <summary>
/// The broker: the SDK's pipelined publisher over one gRPC <c>PublishStream</c>; an ack is its reply. The window is
/// the rule of every publisher (a publication goes out when fewer than <c>inFlight</c> are sent and unanswered, and
/// each reply frees its place), kept as a ring of the publications' Tasks: before sending publication n the loop
/// awaits publication n - inFlight's reply. Replies come in order, so that one is usually answered already and the
/// await costs nothing, where a semaphore and a continuation per publication would cost a thread-pool hop each.
/// </summary>
/// <remarks>
/// With <c>refillByQuarter</c> (the broker-only gRPC scenario), a full window waits for a quarter of it to be answered
/// instead of one publication: waking per reply trickles publications out one by one, each its own batch and flush,
/// and that scenario measures the gRPC path at its best. The WebSocket scenarios, where the broker is compared with
/// the peers, refill per reply like the peers' publishers (docs/performance.md, "Method").
/// </remarks>
internal sealed class GrpcPublisher : Publisher
{
    private readonly BrokerClient _client;
    private readonly BrokerPublisher _publisher;
    private readonly Task<PublishResult>?[] _ring;
    private readonly long[] _sequences;
    private readonly bool _refillByQuarter;
    private long _next;

    public GrpcPublisher(Uri address, int inFlight, bool refillByQuarter = false)
        : base(inFlight)
    {
        _refillByQuarter = refillByQuarter;
        _client = new BrokerClient(new BrokerClientOptions { Address = address });
        _publisher = _client.CreatePublisher(inFlight);
        _ring = new Task<PublishResult>?[inFlight];
        _sequences = new long[inFlight];
    }

    public override async Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken, long sequence = -1)
    {
        int slot = (int)(_next++ % _ring.Length);
        if (_ring[slot] is { } oldest)
        {
            await AwaitAsync(oldest, _sequences[slot], cancellationToken);
        }

        _ring[slot] = _publisher.PublishAsync(channel, payload);
        _sequences[slot] = sequence;
    }

    public override async Task DrainAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < _ring.Length; i++)
        {
            if (_ring[i] is { } task)
            {
                await AwaitAsync(task, _sequences[i], cancellationToken);
                _ring[i] = null;
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync();
        await _client.DisposeAsync();
    }

    /// <summary>Waits for a publication's reply; a failed one counts as an error.</summary>
    private async ValueTask AwaitAsync(Task<PublishResult> task, long sequence, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            // The usual case: no await, no exception thrown to count a failure.
            if (!task.IsCompletedSuccessfully)
            {
                Failed(sequence);
            }

            return;
        }

        try
        {
            await task.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Failed(sequence);
        }
    }
}
