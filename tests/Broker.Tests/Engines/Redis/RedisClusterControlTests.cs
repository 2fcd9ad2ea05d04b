using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Broker.Core;
using Broker.Core.Cluster;
using Broker.Core.Handlers;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Engines.Redis;
using Broker.Tests.Infrastructure;
using Broker.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Broker.Tests.Engines.Redis;

/// <summary>
/// The core's cluster control over two (or three) Redis engines in one process: what a node that dies or
/// does not answer does to a <c>send</c> in flight and to a <c>Disconnect</c>.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisClusterControlTests(RedisServerFixture redis) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly ClientInfo Alice = new("s1", "alice", "c1");
    private readonly List<Node> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task ACallInFlightOnANodeThatDies_GoesOnceToAHandlerOnAnotherNode()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        var onB = new QueueEndpoint();
        await b.Handlers.RegisterAsync("orders", ["order.*"], 0, onB).AsTask().WaitAsync(Timeout);

        using var metrics = new ServerMetrics(a.MeterFactory);
        var pending = a.Handlers.SendAsync("order.place", Json.Of("{}"), Alice, default);
        var first = await onB.NextAsync();
        Assert.Equal("order.place", first.Event);

        // A handler of the group on A, then B crashes: no goodbye, its heartbeat still current for 30 s.
        var onA = new QueueEndpoint();
        var local = await a.Handlers.RegisterAsync("orders", ["order.*"], 0, onA).AsTask().WaitAsync(Timeout);
        await b.CrashAsync();

        // Within the cluster control's watch (1 s) A sees B's node channel without a subscriber.
        var again = await onA.NextAsync();
        Assert.Equal("order.place", again.Event);
        Assert.Equal(first.Deadline.ToUnixTimeMilliseconds(), again.Deadline.ToUnixTimeMilliseconds());  // the wire carries ms
        Assert.True(a.Handlers.Complete(local, again.Id, new HandlerReply(Json.Of("\"a\""))));
        var reply = await pending.WaitAsync(Timeout);
        Assert.Null(reply.ErrorCode);
        Assert.Equal(1, metrics.Sum("broker.handler.redeliveries"));
        Assert.Equal("\"a\"", Json.Text(reply.Data));
    }

    [Fact]
    public async Task TheGroupIsChosenAcrossNodes_AndInsideItALocalHandlerGoesFirst()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        var exactOnB = new QueueEndpoint();
        var broadOnA = new QueueEndpoint();
        var broadOnB = new QueueEndpoint();
        await b.Handlers.RegisterAsync("exact", ["order.place"], 0, exactOnB).AsTask().WaitAsync(Timeout);
        await b.Handlers.RegisterAsync("broad", ["order.*"], 0, broadOnB).AsTask().WaitAsync(Timeout);
        await a.Handlers.RegisterAsync("broad", ["order.*"], 0, broadOnA).AsTask().WaitAsync(Timeout);

        // The exact group on B beats the prefix group that A has locally.
        _ = a.Handlers.SendAsync("order.place", Json.Of("1"), Alice, default);
        Assert.Equal("order.place", (await exactOnB.NextAsync()).Event);

        // Inside the prefix group, A's own handler takes A's calls, B's takes B's: no hop while one has room.
        _ = a.Handlers.SendAsync("order.cancel", Json.Of("2"), Alice, default);
        _ = b.Handlers.SendAsync("order.cancel", Json.Of("3"), Alice, default);
        Assert.Equal("2", Json.Text((await broadOnA.NextAsync()).Data));
        Assert.Equal("3", Json.Text((await broadOnB.NextAsync()).Data));
        Assert.Equal(1, a.Handlers.Count);
        Assert.Equal(2, b.Handlers.Count);
    }

    [Fact]
    public async Task DisconnectCountsEveryNodeThatAnswers_AndLeavesOutOneThatDoesNotWithinTheBound()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        a.Connections.Add(new FakeConnection(new ClientInfo("s1", "zoe", "c1")));
        b.Connections.Add(new FakeConnection(new ClientInfo("s2", "zoe", "c2")));
        b.Connections.Add(new FakeConnection(new ClientInfo("s3", "zoe", "c3")));

        // A third node that is alive (heartbeat, node channel) but whose core never answers.
        var silentCore = new RecordingHandler();
        var silent = await redis.StartEngineAsync(silentCore, configure: o => o.NodeTimeout = TimeSpan.FromSeconds(30));
        try
        {
            using var metrics = new ServerMetrics(a.MeterFactory);
            var result = await a.Cluster.DisconnectAsync(null, "zoe", "bye", reconnect: true, default).AsTask().WaitAsync(Timeout);

            Assert.Null(result.Error);
            Assert.Equal(3, result.Value);
            Assert.Contains("\"disconnect\"", (await silentCore.WaitForControlAsync(1))[0].Text, StringComparison.Ordinal);
            Assert.Equal(1, metrics.Sum("broker.cluster.unanswered", "disconnect"));
        }
        finally
        {
            await silent.DisposeAsync();
        }
    }

    private async Task<Node> StartNodeAsync()
    {
        var engine = redis.CreateEngine(configure: o => o.NodeTimeout = TimeSpan.FromSeconds(30));
        var node = new Node(engine);
        _nodes.Add(node);
        await node.Hub.StartAsync(default).AsTask().WaitAsync(Timeout);
        node.Cluster.Start();
        var deadline = TimeProvider.System.GetTimestamp();
        while (!engine.IsHealthy)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(deadline) < Timeout, "the engine did not become healthy");
            await Task.Delay(20);  // no "probe came back" signal to await (as in the specification)
        }

        return node;
    }

    /// <summary>One broker's core without transports: engine, hub, registries, cluster control.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private bool _disposed;

        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        public Node(RedisEngine engine)
        {
            Engine = engine;
            MeterFactory = _services.GetRequiredService<IMeterFactory>();
            var metrics = new BrokerMetrics(MeterFactory);
            Hub = new Hub(engine, TestNamespaces.Create(), metrics);
            Handlers = new HandlerRegistry(Options.Create(new HandlerOptions()), TimeProvider.System, metrics);
            Connections = new ConnectionRegistry();
            Cluster = new ClusterControl(Hub, Connections, Handlers, NullLogger<ClusterControl>.Instance, metrics);
        }

        /// <summary>This node's own meters (so a test reads one node's counters).</summary>
        public IMeterFactory MeterFactory { get; }

        public RedisEngine Engine { get; }

        public Hub Hub { get; }

        public HandlerRegistry Handlers { get; }

        public ConnectionRegistry Connections { get; }

        public ClusterControl Cluster { get; }

        /// <summary>Stops like a killed process: no deregistration, no leaves.</summary>
        public ValueTask CrashAsync()
        {
            Engine.LeaveClusterOnDispose = false;
            return DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await Cluster.DisposeAsync().AsTask().WaitAsync(Timeout);
            await Engine.DisposeAsync().AsTask().WaitAsync(Timeout);
            await _services.DisposeAsync();
        }
    }

    private sealed class QueueEndpoint : IHandlerEndpoint
    {
        private readonly Channel<InboundCall> _calls = Channel.CreateUnbounded<InboundCall>();

        public bool TryDeliver(InboundCall call) => _calls.Writer.TryWrite(call);

        public Task<InboundCall> NextAsync() => _calls.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
    }

    private sealed class FakeConnection(ClientInfo client) : IClientConnection
    {
        private int _closed;

        public ClientInfo Client => client;

        public string Transport => "test";

        public long PendingBytes => 0;

        public bool Disconnect(string reason, bool reconnect) => Interlocked.Exchange(ref _closed, 1) == 0;

        public bool EndSession(string reason) => Interlocked.Exchange(ref _closed, 1) == 0;
    }
}
