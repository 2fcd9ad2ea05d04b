using System.Collections.Concurrent;
using Broker.Sdk;

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

/// <summary>
/// SignalR and NATS: one WebSocket. SignalR acknowledges each hub invocation with a completion. NATS acknowledges
/// nothing, so the publisher sends <c>PING</c> after every half window of <c>PUB</c>s and a <c>PONG</c>
/// acknowledges its batch: at most the window's worth of <c>PUB</c>s is unconfirmed, and with two batches per
/// window the next batch is already going out while the previous one's <c>PONG</c> is on its way.
/// </summary>
internal sealed class WsPublisher : Publisher
{
    private static readonly byte[] NatsPing = "PING\r\n"u8.ToArray();
    private readonly WsClient _client;
    private readonly WireProtocol _protocol;
    private readonly bool _nats;
    private readonly int _natsBatch;
    private readonly ConcurrentQueue<int> _batches = new();
    private int _id;
    private int _batch;

    private WsPublisher(WsClient client, WireProtocol protocol, int inFlight)
        : base(inFlight)
    {
        _natsBatch = Math.Max(1, inFlight / 2);
        _client = client;
        _protocol = protocol;
        _nats = protocol is NatsWireProtocol;
        client.OnAcks = OnAcks;
    }

    protected override long ProtocolErrors => _client.Errors;

    public static async Task<WsPublisher> ConnectAsync(Uri server, WireProtocol protocol, int inFlight, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        var client = new WsClient(protocol);
        await client.ConnectAsync(server, invoker, cancellationToken);
        await Until.TrueAsync(() => client.Handshakes > 0, TimeSpan.FromSeconds(30), "publisher handshake", cancellationToken);
        return new WsPublisher(client, protocol, inFlight);
    }

    public override async Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken)
    {
        await Window.WaitAsync(cancellationToken);
        await _client.SendAsync(_protocol.Publish(channel, payload, ++_id), cancellationToken);
        if (_nats && ++_batch == _natsBatch)
        {
            await PingAsync(cancellationToken);
        }
    }

    public override async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (_nats && _batch > 0)
        {
            await PingAsync(cancellationToken);
        }

        await base.DrainAsync(cancellationToken);
    }

    public override ValueTask DisposeAsync() => _client.DisposeAsync();

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        _batches.Enqueue(_batch);
        _batch = 0;
        await _client.SendAsync(NatsPing, cancellationToken);
    }

    private void OnAcks(int acks)
    {
        for (int i = 0; i < acks; i++)
        {
            if (!_nats)
            {
                Window.Release();
            }
            else if (_batches.TryDequeue(out int batch))
            {
                Window.Release(batch);
            }
        }
    }
}
