using System.Net.WebSockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Core;
using Broker.Engines.InMemory;
using Broker.Engines;
using Broker.WebSockets.Internal;
using Broker.WebSockets;

namespace Broker.Benchmarks;

/// <summary>
/// The WebSocket write path: publications queued for one socket's subscription, then drained by the
/// writer into messages on a real <see cref="WebSocket"/> (RFC 6455 framing) over a stream that
/// discards. Results are per delivered frame (OperationsPerInvoke). Coalescing on puts every waiting
/// frame into one message (up to 64 KiB); off sends one message per frame.
/// </summary>
[MemoryDiagnoser]
public class WebSocketWriteBenchmarks
{
    private const int FramesPerBurst = 256;

    private WebSocketWriter _writer = null!;
    private SubscriberQueue _queue = null!;
    private Publication[] _burstA = null!;
    private Publication[] _burstB = null!;
    private bool _useB;

    [Params(true, false)]
    public bool Coalesce { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var socket = WebSocket.CreateFromStream(new DiscardStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var options = new BrokerOptions();
        options.Namespaces["bench"] = new NamespaceOptions { BufferMessages = FramesPerBurst * 2 };
        var namespaces = new NamespaceRegistry(options);
        var hub = new Hub(new InMemoryEngine(TimeProvider.System), namespaces);
        hub.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        // A feed as a socket has one: subscribed through the front door, its start read (as the socket's
        // reader writes it among the replies), then drained by the writer with the core's lagged check.
        var feed = BenchmarkNode.Create(hub, namespaces).SubscribeAsync(Caller.Backend, "bench:room", null, listener: null, CancellationToken.None).AsTask().GetAwaiter().GetResult().Value;
        var start = new FeedItem[2];
        while (!feed.Started)
        {
            feed.Read(start, long.MaxValue);
        }

        _queue = feed.Queue;
        _writer = new WebSocketWriter(socket, new Microsoft.AspNetCore.Http.Features.HttpRequestLifetimeFeature(), TimeSpan.FromSeconds(10), Coalesce ? WebSocketWriter.DefaultBatchBytes : 1);
        _writer.AddActive(feed);

        // Two bursts of the same offsets in two epochs, used in turn: each burst starts a new epoch for
        // the cursor, so the same pre-made publications can be delivered forever without looking like
        // duplicates or gaps, and nothing is allocated to make them inside the measurement.
        _burstA = MakeBurst("epoch-a");
        _burstB = MakeBurst("epoch-b");
    }

    [Benchmark(OperationsPerInvoke = FramesPerBurst)]
    public async Task DeliverFrames()
    {
        var burst = _useB ? _burstB : _burstA;
        _useB = !_useB;
        for (int i = 0; i < burst.Length; i++)
        {
            _queue.TryWrite(burst[i]);
        }

        while (await _writer.WriteBatchAsync(includeSubscriptions: true))
        {
        }
    }

    private static Publication[] MakeBurst(string epoch)
    {
        var data = Encoding.UTF8.GetBytes("{\"text\":\"" + new string('x', 88) + "\"}");  // a 100-byte payload
        var burst = new Publication[FramesPerBurst];
        for (int i = 0; i < burst.Length; i++)
        {
            burst[i] = new Publication("bench:room", "message", data, new StreamPosition(epoch, (ulong)i + 1), DateTimeOffset.UtcNow, new ClientInfo("s", "u42", "c"));
            burst[i].GetEncoded(JsonFrameFormat.Instance);  // encoded once, as the first socket's writer would
        }

        return burst;
    }
}
