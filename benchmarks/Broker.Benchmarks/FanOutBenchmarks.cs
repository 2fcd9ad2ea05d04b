using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Core;
using Broker.Engines.InMemory;
using Broker.Engines;

namespace Broker.Benchmarks;

/// <summary>
/// The core's hot path: one publication fanned out to N subscriptions, each queue drained inside the
/// measured region (so the reader's cost and allocations land here too). No network, no encoding.
/// Deliveries per second = Subscribers / Mean.
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private Hub _hub = null!;
    private SubscriberQueue[] _queues = null!;
    private Publication _publication = null!;
    private PublishCommand _command;

    [Params(1, 100, 10_000)]
    public int Subscribers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new BrokerOptions();
        options.Namespaces["bench"] = new NamespaceOptions { HistorySize = 0 };
        var namespaces = new NamespaceRegistry(options);
        _hub = new Hub(new InMemoryEngine(TimeProvider.System), namespaces);
        _hub.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var node = BenchmarkNode.Create(_hub, namespaces);
        _queues = new SubscriberQueue[Subscribers];
        for (int i = 0; i < Subscribers; i++)
        {
            // Each subscriber through the front door, as a transport subscribes; the benchmark then
            // drains the queues itself, so only the hub's fan-out is measured.
            var feed = node.SubscribeAsync(Caller.Backend, "bench:room", null, listener: null, CancellationToken.None).AsTask().GetAwaiter().GetResult().Value;
            _queues[i] = feed.Queue;
        }

        var data = Encoding.UTF8.GetBytes("{\"text\":\"" + new string('x', 88) + "\"}");  // a 100-byte payload
        _publication = new Publication("bench:room", "message", data, new StreamPosition("e", 1), DateTimeOffset.UtcNow, null);
        _command = new PublishCommand("bench:room", "message", data);
    }

    /// <summary>Fan-out alone: the hub queues one shared publication for every subscriber, then each queue is drained.</summary>
    [Benchmark]
    public int FanOut()
    {
        _hub.OnPublication(_publication);
        return Drain();
    }

    /// <summary>The whole publish: the engine numbers it, makes the publication (one allocation per publish), and fans out.</summary>
    [Benchmark]
    public int PublishThroughEngine()
    {
        _hub.PublishAsync(_command, CancellationToken.None).GetAwaiter().GetResult();
        return Drain();
    }

    private int Drain()
    {
        int drained = 0;
        var queues = _queues;
        for (int i = 0; i < queues.Length; i++)
        {
            while (queues[i].TryRead(out _))
            {
                drained++;
            }
        }

        return drained;
    }
}
