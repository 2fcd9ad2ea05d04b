namespace Broker.LoadTest;

/// <summary>What a scenario needs: one server or a cluster on Redis, a paced publisher or a saturating one.</summary>
internal static class ScenarioExtensions
{
    /// <summary>Two nodes on one redis-server (the broker and SignalR only).</summary>
    public static bool IsCluster(this Scenario scenario) => scenario is Scenario.ClusterFanOut or Scenario.ClusterPaced or Scenario.ClusterBlip;

    /// <summary>Publications at a fixed rate, latency from each one's scheduled send time.</summary>
    public static bool IsPaced(this Scenario scenario) => scenario is Scenario.Paced or Scenario.ClusterPaced or Scenario.ClusterBlip;

    /// <summary>Whether <paramref name="peer"/> runs this scenario beside the broker: no gRPC peer; SignalR alone has a Redis backplane.</summary>
    public static bool HasPeer(this Scenario scenario, ServerKind peer) => peer != ServerKind.Broker && scenario switch
    {
        Scenario.Grpc => false,
        _ when scenario.IsCluster() => peer == ServerKind.SignalR,
        _ => true,
    };
}
