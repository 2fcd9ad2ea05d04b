using Broker.Sdk;

namespace Broker.LoadTest;

/// <summary>The broker: the SDK's pipelined publisher over one gRPC <c>PublishStream</c>; an ack is its reply.</summary>
internal sealed class GrpcPublisher : Publisher
{
    private readonly BrokerClient _client;
    private readonly BrokerPublisher _publisher;

    public GrpcPublisher(Uri address, int inFlight)
        : base(inFlight)
    {
        _client = new BrokerClient(new BrokerClientOptions { Address = address });
        _publisher = _client.CreatePublisher(inFlight);
    }

    public override async Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken)
    {
        await Window.WaitAsync(cancellationToken);
        _ = _publisher.PublishAsync(channel, payload).ContinueWith(
            static (task, state) =>
            {
                var self = (GrpcPublisher)state!;
                if (!task.IsCompletedSuccessfully)
                {
                    self.Failed();
                }

                self.Window.Release();
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public override async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync();
        await _client.DisposeAsync();
    }
}
