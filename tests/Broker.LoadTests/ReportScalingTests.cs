using Broker.LoadTest;

namespace Broker.LoadTests;

/// <summary>
/// The report's cost-per-delivery curve (issue 13) on made-up runs: the fan-out at each <c>--subs</c> count and the
/// rooms, each checked against the fan-out at the first count, drawn as its own groups. A smoke run has one count and
/// tiny numbers, so it cannot show the report compares the right runs; these can.
/// </summary>
public sealed class ReportScalingTests
{
    private static readonly LoadTestOptions Options = LoadTestOptions.Parse(["--subs", "1000,10000", "--scenarios", "fanout,rooms"]);

    private static RunResult Run(Scenario scenario, ServerKind server, int subscribers, double cpuMicroseconds, int pair = 1) => new()
    {
        Scenario = scenario,
        Server = server,
        Pair = pair,
        Subscribers = subscribers,
        Delivered = 1_000_000,
        Expected = 1_000_000,
        DeliveriesPerSecond = 1_000_000,
        ServerCpuSeconds = cpuMicroseconds,  // over a million deliveries: this many µs each
    };

    private static Report ReportOf(params RunResult[] runs)
    {
        var pairs = new List<PairResult>();
        for (int i = 0; i + 1 < runs.Length; i += 2)
        {
            pairs.Add(PairResult.Of(runs[i], runs[i + 1]));
        }

        return new Report(Options, [], runs, pairs, TimeSpan.FromSeconds(1), "0 0 0", "0 0 0", DateTime.UnixEpoch);
    }

    /// <summary>Fan-out at 1,000 and 10,000 subscribers and the rooms, broker and NATS, at made-up CPU per delivery.</summary>
    private static Report ScalingReport() => ReportOf(
        Run(Scenario.FanOut, ServerKind.Broker, 1000, 0.50),
        Run(Scenario.FanOut, ServerKind.Nats, 1000, 1.00),
        Run(Scenario.FanOut, ServerKind.Broker, 10000, 0.55),
        Run(Scenario.FanOut, ServerKind.Nats, 10000, 1.50),
        Run(Scenario.Rooms, ServerKind.Broker, 10000, 0.70),
        Run(Scenario.Rooms, ServerKind.Nats, 10000, 2.00));

    private static (string Measured, string Met) Target(Report report, string startsWith)
    {
        var (_, measured, met) = Assert.Single(report.Targets(), t => t.Target.StartsWith(startsWith, StringComparison.Ordinal));
        return (measured, met);
    }

    [Fact]
    public void SubsListRunsTheFanOutAtEachCountWithTheSameDeliveries()
    {
        Assert.Equal(1000, Options.Subscribers);
        Assert.Equal([1000, 10000], Options.FanOutCounts);
        Assert.Equal(20_000, Options.FanOutPublications(1000));
        Assert.Equal(2_000, Options.FanOutPublications(10000));
        Assert.Equal(200_000, Options.RoomMessages);
        Assert.Equal(10_000, Options.SocketsOf(Scenario.Rooms));
        Assert.Equal(10_000, Options.MaxSockets);
    }

    [Fact]
    public void SocketsSpreadOverSourceAddressesBeyondTwentyThousand()
    {
        var idle = LoadTestOptions.Parse(["--idle", "50000", "--scenarios", "idle"]);

        Assert.Equal(1, idle.SourcesFor(20_000));
        Assert.Equal(3, idle.SourcesFor(50_000));
        Assert.Equal(50_000, idle.MaxSockets);
    }

    [Fact]
    public void CostPerDeliveryIsJudgedAgainstTheFanOutAtTheFirstCount()
    {
        var report = ScalingReport();

        var (wide, wideMet) = Target(report, "10,000 subscribers on one channel");
        Assert.StartsWith("1.10×: median 0.55 µs against 0.50 µs at 1,000", wide, StringComparison.Ordinal);
        Assert.Contains("NATS: 1.50 against 1.00 µs, 1.50×", wide, StringComparison.Ordinal);
        Assert.Equal("yes", wideMet);

        var (rooms, roomsMet) = Target(report, "1,000 channels × 10 subscribers");
        Assert.StartsWith("1.40×", rooms, StringComparison.Ordinal);
        Assert.Equal("**no**", roomsMet);

        // The 1,000-subscriber targets read the 1,000-subscriber pairs only, not the 10,000 ones.
        var (cpu, _) = Target(report, "Fan-out at 1,000 subscribers: server CPU per delivery");
        Assert.Equal("median 0.50 µs against NATS's 1.00 µs", cpu);
    }

    [Fact]
    public void TheChartDrawsEachCountAndTheRoomsWithTheLimit()
    {
        var report = ScalingReport();

        string svg = report.Svg();

        Assert.Contains(">Server CPU per delivery, µs (lower is better); dashed: 1.2× the broker's fan-out at 1,000", svg, StringComparison.Ordinal);
        Assert.Contains(">FanOut 1,000</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">FanOut 10,000</text>", svg, StringComparison.Ordinal);
        Assert.Contains(">Rooms 1,000 × 10</text>", svg, StringComparison.Ordinal);
        Assert.Contains("<title>Broker FanOut 10,000: 0.55</title>", svg, StringComparison.Ordinal);
        Assert.Contains("<title>Nats Rooms 1,000 × 10: 2.00</title>", svg, StringComparison.Ordinal);
        Assert.Contains("stroke-dasharray", svg, StringComparison.Ordinal);
    }
}
