namespace Broker.LoadTest;

/// <summary>
/// The cluster scenarios' servers: one private redis-server and two nodes of one kind on it (the broker with its Redis
/// engine, or SignalR on its Redis backplane), each on its own free ports; all killed at the end of the run.
/// </summary>
internal sealed class ServerCluster : IAsyncDisposable
{
    /// <summary>Two: the fewest that show the cost of crossing Redis, and what one machine's two cores can drive.</summary>
    public const int NodeCount = 2;

    private ServerCluster(RedisServer redis, IReadOnlyList<ServerProcess> nodes)
    {
        Redis = redis;
        Nodes = nodes;
    }

    public RedisServer Redis { get; }

    /// <summary>The nodes; the publisher connects to the first.</summary>
    public IReadOnlyList<ServerProcess> Nodes { get; }

    public static async Task<ServerCluster> StartAsync(ServerKind kind, ServerProcess.Paths paths, int historySize, CancellationToken cancellationToken)
    {
        var redis = await RedisServer.StartAsync(paths.RedisServer, cancellationToken);
        var starts = Enumerable.Range(0, NodeCount)
            .Select(_ => ServerProcess.StartAsync(kind, paths, cancellationToken, redis.Configuration, historySize))
            .ToArray();
        try
        {
            return new ServerCluster(redis, await Task.WhenAll(starts));
        }
        catch
        {
            foreach (var start in starts)
            {
                if (start.IsCompletedSuccessfully)
                {
                    await start.Result.DisposeAsync();
                }
            }

            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>CPU of the whole cluster, Redis included: each side's fan-out runs partly inside its Redis.</summary>
    public TimeSpan CpuTime() => Nodes.Aggregate(Redis.CpuTime(), static (sum, node) => sum + node.CpuTime());

    /// <summary>The nodes' peak resident memory, summed (Redis apart: the same server for both sides).</summary>
    public long PeakRss() => Nodes.Sum(static node => node.PeakRss());

    public string Output() => string.Join('\n', Nodes.Select(static (node, i) => $"node {i}: {node.Output()}")) + "\nredis: " + Redis.Output();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        await Redis.DisposeAsync();
    }
}
