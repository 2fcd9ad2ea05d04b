namespace Broker.LoadTest;

/// <summary>One run: one scenario against one server, from a fresh server process.</summary>
internal sealed record RunResult
{
    public required Scenario Scenario { get; init; }

    public required ServerKind Server { get; init; }

    /// <summary>The pair this run belongs to (1-based); its broker run and its peer run share the number.</summary>
    public int Pair { get; init; }

    public int Subscribers { get; init; }

    public long Publications { get; init; }

    public long Expected { get; init; }

    public long Delivered { get; init; }

    /// <summary>Expected minus delivered minus what the server said it dropped: must be 0.</summary>
    public long Lost { get; init; }

    /// <summary>Dropped by the server's overflow policy and reported to the subscriber (broker <c>lagged</c>).</summary>
    public long Dropped { get; init; }

    public long Errors { get; init; }

    public double Seconds { get; init; }

    public double DeliveriesPerSecond { get; init; }

    public double P50Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public double ServerCpuSeconds { get; init; }

    /// <summary>
    /// The server's CPU over its whole life up to the end of the measured part: start-up, connections, subscriptions
    /// and warm-up too. Not the reported figure (<see cref="ServerCpuSeconds"/> is the measured part alone); kept to
    /// show what a count from the process's start adds (docs/performance.md, "Method").
    /// </summary>
    public double ServerCpuTotalSeconds { get; init; }

    public double ServerPeakRssMiB { get; init; }

    public double ClientCpuSeconds { get; init; }

    /// <summary>Server CPU per delivery, µs: steadier than a rate when other work shares the machine.</summary>
    public double? ServerCpuMicrosecondsPerDelivery => Delivered > 0 && Scenario != Scenario.Idle ? ServerCpuSeconds * 1e6 / Delivered : null;

    /// <summary>Idle scenario: server resident memory added per connection, KiB.</summary>
    public double? KiBPerConnection { get; init; }

    /// <summary>
    /// Cluster scenarios: publications the server refused, its publisher told (broker <c>unavailable</c>, a SignalR
    /// invocation's error). Not expected, so not lost when they never arrive; in the blip not an error either.
    /// </summary>
    public long? Refused { get; init; }

    /// <summary>Cluster scenarios: deliveries of a publication the subscriber already had.</summary>
    public long? Duplicates { get; init; }

    /// <summary>Cluster scenarios: deliveries to the subscribers on the node that did not receive the publish.</summary>
    public long? CrossNodeDelivered { get; init; }

    /// <summary>Cluster scenarios: p99 latency of the cross-node deliveries, ms.</summary>
    public double? CrossNodeP99Ms { get; init; }

    /// <summary>
    /// WebSocket scenarios: deliveries per subscriber receive that carried any, over the whole run (warm-up
    /// excluded): about how many publications the server put in one WebSocket message.
    /// </summary>
    public double? DeliveriesPerReceive { get; init; }

    /// <summary>
    /// WebSocket scenarios: bytes the subscribers received per delivery in the measured part (message payloads, the
    /// server's own framing of a publication included, WebSocket headers not): what each protocol costs per delivery on
    /// the wire, and in the kernel and the client that copy and scan it.
    /// </summary>
    public double? BytesPerDelivery { get; init; }

    /// <summary>Why the run failed, if it did.</summary>
    public string? Failure { get; init; }

    /// <summary>
    /// SignalR's Redis backplane is at-most-once by design (a message published while the link is broken is gone):
    /// in the Redis blip its loss, and a publish the hub failed, is what the run measures, not a failure of the run.
    /// The broker promises no loss there, so its blip run fails on any.
    /// </summary>
    public bool LossExpected => Scenario == Scenario.ClusterBlip && Server != ServerKind.Broker;

    public bool Ok => Failure is null && ((Lost == 0 && Errors == 0 && Duplicates is null or 0) || LossExpected);
}
