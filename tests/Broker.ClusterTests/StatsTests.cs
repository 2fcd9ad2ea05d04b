using System.Text.Json;
using Broker.ClusterTests.Infrastructure;

namespace Broker.ClusterTests;

/// <summary>PROTOCOL.md, "Running several brokers (cluster)": <c>/stats</c> stays per node and names the node.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StatsTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Each_node_names_itself_in_stats_with_its_own_engine_node_id()
    {
        var engineNodes = new List<string>();
        foreach (var node in cluster.Nodes)
        {
            using var web = node.CreateWebClient();
            using var stats = JsonDocument.Parse(await web.GetStringAsync("/stats"));
            Assert.Equal(node.Name, stats.RootElement.GetProperty("node").GetString());
            Assert.True(stats.RootElement.GetProperty("engineHealthy").GetBoolean());
            engineNodes.Add(stats.RootElement.GetProperty("engineNode").GetString()!);
        }

        Assert.All(engineNodes, static id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(engineNodes.Count, engineNodes.Distinct().Count());
    }
}
