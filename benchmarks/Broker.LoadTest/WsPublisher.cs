using System.Collections.Concurrent;

namespace Broker.LoadTest;

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
    private readonly ConcurrentDictionary<int, long> _sequences = new();
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
        client.OnFailedReply = OnFailedReply;
    }

    protected override long ProtocolErrors => _client.Errors;

    public static async Task<WsPublisher> ConnectAsync(Uri server, WireProtocol protocol, int inFlight, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        var client = new WsClient(protocol);
        await client.ConnectAsync(server, invoker, cancellationToken);
        await Until.TrueAsync(() => client.Handshakes > 0, TimeSpan.FromSeconds(30), "publisher handshake", cancellationToken);
        return new WsPublisher(client, protocol, inFlight);
    }

    public override async Task PublishAsync(string channel, byte[] payload, CancellationToken cancellationToken, long sequence = -1)
    {
        await Window.WaitAsync(cancellationToken);
        int id = ++_id;
        if (sequence >= 0 && _protocol.ReplyIdMarker is not null)
        {
            _sequences[id] = sequence;  // an error reply names the invocation: this says which publication it was
        }

        await _client.SendAsync(_protocol.Publish(channel, payload, id), cancellationToken);
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

    private void OnFailedReply(long id)
    {
        if (id <= int.MaxValue && _sequences.TryGetValue((int)id, out long sequence))
        {
            Refuse(sequence);  // already counted as an error by the client
        }
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
