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

    public double ServerPeakRssMiB { get; init; }

    public double ClientCpuSeconds { get; init; }

    /// <summary>Server CPU per delivery, µs: steadier than a rate when other work shares the machine.</summary>
    public double? ServerCpuMicrosecondsPerDelivery => Delivered > 0 && Scenario != Scenario.Idle ? ServerCpuSeconds * 1e6 / Delivered : null;

    /// <summary>Idle scenario: server resident memory added per connection, KiB.</summary>
    public double? KiBPerConnection { get; init; }

    /// <summary>Why the run failed, if it did.</summary>
    public string? Failure { get; init; }

    public bool Ok => Failure is null && Lost == 0 && Errors == 0;
}
