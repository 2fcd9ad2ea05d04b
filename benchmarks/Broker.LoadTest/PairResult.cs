namespace Broker.LoadTest;

/// <summary>A broker run and the peer run right beside it, compared on the scenario's main metric.</summary>
internal sealed record PairResult(Scenario Scenario, int Pair, ServerKind Peer, string Metric, double Broker, double Other, double? Ratio, bool HigherIsBetter, double BrokerPeakRssMiB, double PeerPeakRssMiB, int Subscribers)
{
    public static PairResult Of(RunResult broker, RunResult peer)
    {
        (string metric, Func<RunResult, double> value, bool higher) = broker.Scenario switch
        {
            Scenario.Paced or Scenario.ClusterPaced => ("p99 latency, ms", (Func<RunResult, double>)(static r => r.P99Ms), false),
            Scenario.ClusterBlip => ("messages lost", static r => r.Lost, false),
            Scenario.Idle => ("server KiB per connection", static r => r.KiBPerConnection ?? 0, false),
            _ => ("deliveries/s", static r => r.DeliveriesPerSecond, true),
        };
        double b = value(broker);
        double p = value(peer);
        bool valid = broker.Failure is null && peer.Failure is null && p > 0;
        return new PairResult(broker.Scenario, broker.Pair, peer.Server, metric, b, p, valid ? b / p : null, higher, broker.ServerPeakRssMiB, peer.ServerPeakRssMiB, broker.Subscribers);
    }
}
