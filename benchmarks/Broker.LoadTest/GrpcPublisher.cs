using Broker.Sdk;

namespace Broker.LoadTest;

/// <summary>
/// The broker: the SDK's pipelined publisher over one gRPC <c>PublishStream</c>; an ack is its reply. The window is
/// the same rule as the other publishers (at most <c>inFlight</c> sent and unanswered), kept as a ring of the
/// publications' Tasks: before sending publication n the loop awaits publication n - inFlight's reply. Replies come in
/// order, so that one is usually answered already and the await costs nothing, where a semaphore and a continuation
/// per publication would cost a thread-pool hop each.
/// </summary>
internal sealed class GrpcPublisher : Publisher
{
    private readonly BrokerClient _client;
    private readonly BrokerPublisher _publisher;
    private readonly Task<PublishResult>?[] _ring;
    private long _next;

    public GrpcPublisher(Uri address, int inFlight)
        : base(inFlight)
    {
        _client = new BrokerClient(new BrokerClientOptions { Address = address });
        _publisher = _client.CreatePublisher(inFlight);
        _ring = new Task<PublishResult>?[inFlight];
    }

    public override async Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken)
    {
        int slot = (int)(_next++ % _ring.Length);
        if (_ring[slot] is { } oldest)
        {
            await AwaitAsync(oldest, cancellationToken);
        }

        _ring[slot] = _publisher.PublishAsync(channel, payload);
    }

    public override async Task DrainAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < _ring.Length; i++)
        {
            if (_ring[i] is { } task)
            {
                await AwaitAsync(task, cancellationToken);
                _ring[i] = null;
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync();
        await _client.DisposeAsync();
    }

    private async Task AwaitAsync(Task<PublishResult> task, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Failed();
        }
    }
}
