namespace Broker.ClusterTests.Infrastructure;

/// <summary>
/// The cluster the tests share: one redis-server and three nodes (<c>node-a</c>, <c>node-b</c>, <c>node-c</c>)
/// under one key prefix, started once for the collection and killed at its end. A test that kills a node starts
/// its own with <see cref="StartNodeAsync"/> (same Redis, same prefix: a fourth member of this cluster) and
/// disposes it; a test that pauses Redis continues it and waits until every node is ready again.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>
    /// The shared nodes' heartbeat timeout: long enough that the tests' Redis pause (about 5 s) does not get them
    /// declared dead. Nodes started to be killed use <see cref="ShortNodeTimeout"/>.
    /// </summary>
    public static readonly TimeSpan SharedNodeTimeout = TimeSpan.FromSeconds(15);

    /// <summary>A killed node's presence leaves within this plus one sweep (a sixth of a survivor's timeout).</summary>
    public static readonly TimeSpan ShortNodeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The cluster's <c>Broker:Redis:Prefix</c>: its keys are <c>&lt;Prefix&gt;:…</c> (docs/cluster.md, "Keys").</summary>
    public string Prefix { get; } = "cluster-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The cluster's Redis.</summary>
    public RedisProcess Redis { get; private set; } = null!;

    /// <summary>The three shared nodes.</summary>
    public IReadOnlyList<BrokerProcess> Nodes { get; private set; } = [];

    /// <summary>Node a.</summary>
    public BrokerProcess A => Nodes[0];

    /// <summary>Node b.</summary>
    public BrokerProcess B => Nodes[1];

    /// <summary>Node c.</summary>
    public BrokerProcess C => Nodes[2];

    /// <summary>Starts Redis, then the three nodes side by side.</summary>
    public async Task InitializeAsync()
    {
        Redis = await RedisProcess.StartAsync(BrokerServer.DefaultTimeout);
        var starting = new[] { "node-a", "node-b", "node-c" }.Select(name => BrokerProcess.StartAsync(name, Settings(SharedNodeTimeout))).ToArray();
        try
        {
            Nodes = await Task.WhenAll(starting);
        }
        catch
        {
            // Kill the ones that did start: nothing outlives a failed fixture.
            foreach (var start in starting)
            {
                if (start.IsCompletedSuccessfully)
                {
                    await start.Result.DisposeAsync();
                }
            }

            await Redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts another node of this cluster, for a test that kills it (the test disposes it).</summary>
    public Task<BrokerProcess> StartNodeAsync(string name) => BrokerProcess.StartAsync(name, Settings(ShortNodeTimeout));

    /// <summary>Waits until every shared node's <c>/readyz</c> is 200 again.</summary>
    public Task WaitAllReadyAsync(TimeSpan timeout) => Task.WhenAll(Nodes.Select(n => n.WaitReadyAsync(timeout)));

    /// <summary>Every process's last output, for a failure message.</summary>
    public string Output => string.Join('\n', Nodes.Select(static n => n.Process.Output).Append(Redis.Process.Output));

    /// <summary>Kills the nodes, then Redis.</summary>
    public async Task DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }

    /// <summary>What every node of this cluster is started with (the shipped appsettings.json adds the <c>chat</c> namespace: history 100, presence).</summary>
    private Dictionary<string, string> Settings(TimeSpan nodeTimeout) => new()
    {
        ["Broker:Engine"] = "Redis",
        ["Broker:Redis:Configuration"] = Redis.Configuration,
        ["Broker:Redis:Prefix"] = Prefix,
        ["Broker:Redis:NodeTimeout"] = nodeTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The cluster tests: they share one <see cref="ClusterFixture"/> and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Cluster";
}
