using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using System.Text.Json;
using System.Text;

namespace Broker.LoadTest;

/// <summary>The results of one load test: Markdown tables, JSON, an SVG chart, and the issue's targets checked.</summary>
internal sealed class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly LoadTestOptions _options;
    private readonly string[] _args;
    private readonly IReadOnlyList<RunResult> _runs;
    private readonly IReadOnlyList<PairResult> _pairs;
    private readonly TimeSpan _elapsed;
    private readonly DateTime _finished;
    private readonly string _loadAtStart;
    private readonly string _loadAtEnd;

    public Report(LoadTestOptions options, string[] args, IReadOnlyList<RunResult> runs, IReadOnlyList<PairResult> pairs, TimeSpan elapsed, string loadAtStart, string? loadAtEnd = null, DateTime? finished = null)
    {
        _loadAtStart = loadAtStart;
        _loadAtEnd = loadAtEnd ?? LoadAverage();
        _finished = finished ?? DateTime.UtcNow;
        _options = options;
        _args = args;
        _runs = runs;
        _pairs = pairs;
        _elapsed = elapsed;
    }

    public TimeSpan Elapsed => _elapsed;

    public string Command => "dotnet run -c Release --project benchmarks/Broker.LoadTest" + (_args.Length > 0 ? " -- " + string.Join(' ', _args) : "");

    public static string Machine()
    {
        string cpu = "unknown CPU";
        long memory = 0;
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            var line = File.ReadLines("/proc/meminfo").First(static l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            memory = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Invariant) * 1024;
        }
        catch (Exception)
        {
            // not Linux, or a restricted /proc: the name stays generic
        }

        return string.Create(Invariant, $"{Environment.ProcessorCount} cores ({cpu}), {memory / 1073741824.0:0.#} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }

    /// <summary>The 1, 5 and 15 minute load averages: on a shared machine, what else was running.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    public static string Line(RunResult r) => r.Failure is not null
        ? $"{r.Scenario,-13} {r.Server,-7} pair {r.Pair}: FAILED {r.Failure}"
        : string.Create(Invariant, $"{r.Scenario,-13} {r.Server,-7} {r.Subscribers,6:N0} pair {r.Pair}: {r.DeliveriesPerSecond,12:N0} deliveries/s  p50 {r.P50Ms,7:0.00} ms  p99 {r.P99Ms,8:0.00} ms{(r.CrossNodeP99Ms is { } x ? $" (cross-node {x:0.00} ms)" : "")}  max {r.MaxMs,8:0.00} ms  lost {r.Lost}  dropped {r.Dropped}  errors {r.Errors}{(r.Refused is { } refused ? $"  refused {refused}  duplicates {r.Duplicates}" : "")}  server {r.ServerCpuSeconds:0.00} s CPU ({r.ServerCpuTotalSeconds:0.00} s since start), {r.ServerPeakRssMiB:0} MiB peak  client {r.ClientCpuSeconds:0.00} s CPU{(r.DeliveriesPerReceive is { } batch ? $"  {batch:0.0} deliveries/receive" : "")}{(r.BytesPerDelivery is { } b ? $"  {b:0} B/delivery" : "")}{(r.KiBPerConnection is { } k ? $"  {k:0.0} KiB/connection" : "")}");

    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine(Invariant, $"Load test of {_finished:yyyy-MM-dd HH:mm} UTC, {_elapsed.TotalSeconds:0} s{(_options.Smoke ? " (smoke: tiny numbers, not a measurement)" : "")}.");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Machine: {Machine()}");
        md.AppendLine(Invariant, $"- Load average (1, 5, 15 min) at start {_loadAtStart}, at end {_loadAtEnd}: other work on the machine shares the cores, so compare the ratios of a pair, not absolute rates.");
        md.AppendLine(Invariant, $"- Command: `{Command}`");
        md.AppendLine(Invariant, $"- Subscribers {string.Join(", ", _options.FanOutCounts.Select(static n => n.ToString("N0", Invariant)))}{(_options.FanOutCounts.Count > 1 ? " (the fan-out at each, the other scenarios at the first)" : "")}, publications {_options.Messages:N0} (fan-out at {_options.Subscribers:N0}{(_options.FanOutCounts.Count > 1 ? string.Join("", _options.FanOutCounts.Skip(1).Select(n => string.Create(Invariant, $", {_options.FanOutPublications(n):N0} at {n:N0}"))) : "")}; twice that, half on own channels, in many-channels){(_runs.Any(static r => r.Scenario == Scenario.Rooms) ? string.Create(Invariant, $"; rooms: {_options.Rooms:N0} channels × {_options.RoomSubscribers:N0} subscribers, {_options.RoomMessages:N0} publications round-robin") : "")}; payload {_options.PayloadBytes} B, at most {_options.InFlight} in flight; paced {_options.Rate}/s for {_options.Seconds} s; {_options.IdleConnections:N0} idle sockets; {_options.GrpcSubscribers} gRPC subscriber(s), {_options.GrpcMessages:N0} publications.");
        if (_runs.Any(static r => r.Scenario.IsCluster()))
        {
            md.AppendLine(Invariant, $"- Cluster: {ServerCluster.NodeCount} nodes on one redis-server, subscribers split evenly, the publisher on the first node; paced {_options.ClusterRate}/s for {_options.Seconds} s; blip: Redis stopped {_options.BlipSeconds} s a third into a {_options.Seconds + _options.BlipSeconds} s paced run; broker history {_options.ClusterHistory} per channel. Server CPU is both nodes and Redis, peak RSS both nodes. Cross-node: the subscribers of the node that did not receive the publish.");
        }

        md.AppendLine();
        md.AppendLine("Pairs (a broker run and the peer run right beside it: the broker first in odd pairs, second in even ones):");
        md.AppendLine();
        md.AppendLine("| Scenario | Subscribers | Pair | Peer | Metric | Broker | Peer | Broker ÷ peer |");
        md.AppendLine("| --- | --: | --: | --- | --- | --: | --: | --: |");
        foreach (var p in _pairs)
        {
            md.AppendLine(Invariant, $"| {p.Scenario} | {p.Subscribers:N0} | {p.Pair} | {p.Peer} | {p.Metric}{(p.HigherIsBetter ? " (higher is better)" : " (lower is better)")} | {Number(p.Broker)} | {Number(p.Other)} | {(p.Ratio is { } r ? r.ToString("0.00", Invariant) + "×" : "n/a")} |");
        }

        md.AppendLine();
        md.AppendLine("Runs (each on a fresh server process; latency from the payload's send time, paced: from its scheduled send time):");
        md.AppendLine();
        md.AppendLine("| Scenario | Server | Pair | Subscribers | Publications | Deliveries/s | p50 ms | p99 ms | max ms | Lost | Dropped | Errors | Server CPU s | Server CPU µs/delivery | Server peak RSS MiB | Client CPU s | KiB/connection | Cross-node p99 ms | Refused | Duplicates |");
        md.AppendLine("| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |");
        foreach (var r in _runs)
        {
            if (r.Failure is not null)
            {
                md.AppendLine(Invariant, $"| {r.Scenario} | {r.Server} | {r.Pair} | failed: {r.Failure.Split('\n')[0].Replace("|", "/", StringComparison.Ordinal)} | | | | | | | | | | | | | | | | |");
                continue;
            }

            md.AppendLine(Invariant, $"| {r.Scenario} | {r.Server} | {r.Pair} | {r.Subscribers:N0} | {r.Publications:N0} | {r.DeliveriesPerSecond:N0} | {r.P50Ms:0.00} | {r.P99Ms:0.00} | {r.MaxMs:0.00} | {r.Lost:N0} | {r.Dropped:N0} | {r.Errors:N0} | {r.ServerCpuSeconds:0.00} | {(r.ServerCpuMicrosecondsPerDelivery is { } us ? us.ToString("0.00", Invariant) : "")} | {r.ServerPeakRssMiB:0} | {r.ClientCpuSeconds:0.00} | {(r.KiBPerConnection is { } k ? k.ToString("0.0", Invariant) : "")} | {(r.CrossNodeP99Ms is { } x ? x.ToString("0.00", Invariant) : "")} | {r.Refused?.ToString("N0", Invariant)} | {r.Duplicates?.ToString("N0", Invariant)} |");
        }

        md.AppendLine();
        md.AppendLine("Targets of issues 13 and 12, checked on this run:");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Met |");
        md.AppendLine("| --- | --- | --- |");
        foreach (var (target, measured, met) in Targets())
        {
            md.AppendLine(Invariant, $"| {target} | {measured} | {met} |");
        }

        return md.ToString();
    }

    public string Json() => JsonSerializer.Serialize(
        new
        {
            finished = _finished,
            elapsedSeconds = _elapsed.TotalSeconds,
            args = _args,
            machine = Machine(),
            loadAverageAtStart = _loadAtStart,
            loadAverageAtEnd = _loadAtEnd,
            command = Command,
            options = _options,
            pairs = _pairs,
            runs = _runs,
            targets = Targets().Select(static t => new { t.Target, t.Measured, t.Met }),
        },
        JsonOptions);

    /// <summary>A run's JSON read back (<c>--from</c>).</summary>
    public static Saved Load(string json) => JsonSerializer.Deserialize<Saved>(json, JsonOptions) ?? throw new InvalidDataException("empty results file");

    internal sealed record Saved(DateTime Finished, double ElapsedSeconds, string[] Args, string LoadAverageAtStart, string LoadAverageAtEnd, LoadTestOptions Options, List<RunResult> Runs);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Four panels, a bar per server and group, each the median of that server's runs in the group: deliveries/s, p99
    /// latency, server CPU per delivery (the fan-out at each subscriber count of the run and the rooms: issue 13's
    /// curve of cost per delivery), memory per idle socket.
    /// </summary>
    public string Svg()
    {
        // The blip is left out: its p99 is the stop itself, and its number is what was lost (the tables).
        var order = new[] { Scenario.FanOut, Scenario.Rooms, Scenario.Channels, Scenario.ClusterFanOut, Scenario.Grpc, Scenario.Paced, Scenario.ClusterPaced, Scenario.Idle };
        var groups = order.SelectMany(Groups).ToArray();
        var servers = Enum.GetValues<ServerKind>();
        string[] colors = ["#2b6cb0", "#805ad5", "#2f855a"];
        const int width = 900, panelHeight = 250, top = 50, left = 70, groupGap = 24;
        int plotWidth = width - left - 20;
        var svg = new StringBuilder();
        svg.AppendLine(Invariant, $"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.AppendLine(Invariant, $"<text x=\"{left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">Broker load test: {Escape(string.Join(", ", _options.FanOutCounts.Select(static n => n.ToString("N0", Invariant))))} subscribers, {_options.PayloadBytes} B payloads, {_options.InFlight} in flight; medians of the runs{(_options.Smoke ? " (smoke)" : "")}</text>");
        for (int i = 0; i < servers.Length; i++)
        {
            svg.AppendLine(Invariant, $"<rect x=\"{left + (i * 120)}\" y=\"30\" width=\"12\" height=\"12\" fill=\"{colors[i]}\"/><text x=\"{left + (i * 120) + 16}\" y=\"41\">{servers[i]}</text>");
        }

        // Panels stack down from here; one with no group of runs in it is left out.
        int y = top + 30;

        // line: a dashed horizontal mark across the panel (a limit), named in the title.
        void Panel(string title, Func<RunResult, double?> value, Func<double, string> label, Func<ChartGroup, bool> include, double? line = null)
        {
            var shown = groups.Where(include).ToArray();
            if (shown.Length == 0)
            {
                return;
            }

            int py = y;  // this panel's top
            y += panelHeight + 60;
            double max = line ?? 0;
            var medians = new Dictionary<(int, ServerKind), double>();
            for (int g = 0; g < shown.Length; g++)
            {
                foreach (var k in servers)
                {
                    if (Median(_runs.Where(r => r.Server == k && r.Failure is null && shown[g].Match(r)).Select(value).OfType<double>()) is { } median)
                    {
                        medians[(g, k)] = median;
                        max = Math.Max(max, median);
                    }
                }
            }

            svg.AppendLine(Invariant, $"<text x=\"{left}\" y=\"{py - 8}\" font-weight=\"bold\">{Escape(title)}</text>");
            svg.AppendLine(Invariant, $"<line x1=\"{left}\" y1=\"{py + panelHeight}\" x2=\"{left + plotWidth}\" y2=\"{py + panelHeight}\" stroke=\"#444\"/>");
            if (max <= 0)
            {
                return;
            }

            double groupWidth = (plotWidth - (groupGap * (shown.Length + 1))) / (double)shown.Length;
            double barWidth = groupWidth / servers.Length;
            for (int g = 0; g < shown.Length; g++)
            {
                double x0 = left + groupGap + (g * (groupWidth + groupGap));
                svg.AppendLine(Invariant, $"<text x=\"{x0 + (groupWidth / 2):0.#}\" y=\"{py + panelHeight + 16}\" text-anchor=\"middle\">{Escape(shown[g].Label)}</text>");
                for (int k = 0; k < servers.Length; k++)
                {
                    if (!medians.TryGetValue((g, servers[k]), out double v))
                    {
                        continue;
                    }

                    double h = v / max * (panelHeight - 20);
                    double x = x0 + (k * barWidth);
                    svg.AppendLine(Invariant, $"<rect x=\"{x + 2:0.#}\" y=\"{py + panelHeight - h:0.#}\" width=\"{barWidth - 4:0.#}\" height=\"{h:0.#}\" fill=\"{colors[k]}\"><title>{servers[k]} {Escape(shown[g].Label)}: {Escape(label(v))}</title></rect>");
                    svg.AppendLine(Invariant, $"<text x=\"{x + (barWidth / 2):0.#}\" y=\"{py + panelHeight - h - 4:0.#}\" text-anchor=\"middle\" font-size=\"10\">{Escape(label(v))}</text>");
                }
            }

            if (line is { } mark)
            {
                double ly = py + panelHeight - (mark / max * (panelHeight - 20));
                svg.AppendLine(Invariant, $"<line x1=\"{left}\" y1=\"{ly:0.#}\" x2=\"{left + plotWidth}\" y2=\"{ly:0.#}\" stroke=\"#c53030\" stroke-dasharray=\"6 4\"/>");
            }
        }

        Panel("Deliveries per second (higher is better)", static r => r.DeliveriesPerSecond, static v => Number(v), static g => g.Scenario is not Scenario.Paced and not Scenario.Idle);
        Panel("p99 latency, ms (lower is better; paced: from the scheduled send time)", static r => r.P99Ms, static v => v.ToString("0.0", Invariant), static g => g.Scenario != Scenario.Idle);

        // Issue 13: the cost per delivery at 10,000 subscribers and in the rooms at most 1.2× the fan-out's at 1,000.
        int reference = _options.Subscribers;
        var baseline = CpuPerDelivery(Scenario.FanOut, reference);
        Panel(string.Create(Invariant, $"Server CPU per delivery, µs (lower is better){(baseline is null ? "" : $"; dashed: 1.2× the broker's fan-out at {reference:N0}, issue 13's limit")}"), static r => r.ServerCpuMicrosecondsPerDelivery, static v => v.ToString("0.00", Invariant), static g => g.Scenario is Scenario.FanOut or Scenario.Rooms,
            1.2 * baseline);
        Panel(string.Create(Invariant, $"Server memory per idle WebSocket, KiB ({_options.IdleConnections:N0} sockets; lower is better)"), static r => r.KiBPerConnection, static v => v.ToString("0.0", Invariant), static g => g.Scenario == Scenario.Idle);
        svg.AppendLine("</svg>");
        // The height is known once the panels are drawn.
        return string.Create(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{y}\" font-family=\"sans-serif\" font-size=\"12\">\n") + svg;
    }

    /// <summary>One group of bars in a chart: a scenario, or the fan-out at one subscriber count.</summary>
    private sealed record ChartGroup(Scenario Scenario, string Label, Func<RunResult, bool> Match);

    /// <summary>The chart's groups for <paramref name="scenario"/>: the fan-out one per subscriber count when the run had several.</summary>
    private IEnumerable<ChartGroup> Groups(Scenario scenario)
    {
        var counts = _runs.Where(r => r.Scenario == scenario && r.Failure is null).Select(static r => r.Subscribers).Distinct().Order().ToList();
        if (counts.Count == 0)
        {
            yield break;
        }

        if (scenario == Scenario.FanOut)
        {
            foreach (int count in counts)
            {
                yield return new ChartGroup(scenario, string.Create(Invariant, $"FanOut {count:N0}"), r => r.Scenario == scenario && r.Subscribers == count);
            }

            yield break;
        }

        string label = scenario switch
        {
            Scenario.Grpc => "Grpc (broker only)",
            Scenario.Rooms => string.Create(Invariant, $"Rooms {_options.Rooms:N0} × {_options.RoomSubscribers:N0}"),
            _ => scenario.ToString(),
        };
        yield return new ChartGroup(scenario, label, r => r.Scenario == scenario);
    }

    /// <summary>The median server CPU per delivery, µs, of <paramref name="server"/>'s runs of <paramref name="scenario"/> (at <paramref name="subscribers"/>, if given).</summary>
    private double? CpuPerDelivery(Scenario scenario, int? subscribers = null, ServerKind server = ServerKind.Broker) => Median(_runs
        .Where(r => r.Scenario == scenario && r.Server == server && r.Failure is null && (subscribers is null || r.Subscribers == subscribers))
        .Select(static r => r.ServerCpuMicrosecondsPerDelivery).OfType<double>());

    /// <summary>
    /// Issue 13's targets (they replaced issue 6's 1.2× NATS, NATS + 40 MiB and 8 KiB per idle socket), each checked on
    /// the median over this run's pairs (every pair's value listed), or marked as not measured.
    /// </summary>
    public IEnumerable<(string Target, string Measured, string Met)> Targets()
    {
        string At(int n, int wanted) => n == wanted ? "" : string.Create(Invariant, $" (measured at {n:N0}, not {wanted:N0})");
        // The fan-out's pairs at the first subscriber count of --subs (the others are for the cost-per-delivery curve).
        int reference = _options.Subscribers;
        List<PairResult> Pairs(Scenario scenario, ServerKind peer) => [.. _pairs.Where(p => p.Scenario == scenario && p.Peer == peer && p.Ratio is not null && (scenario != Scenario.FanOut || p.Subscribers == reference))];
        string Each(IEnumerable<double> values, Func<double, string> format) => string.Join(", ", values.Select(format));

        var fanSignalR = Pairs(Scenario.FanOut, ServerKind.SignalR);
        double? a = Median(fanSignalR.Select(static p => p.Ratio!.Value));
        yield return ("Fan-out at 1,000 subscribers ≥ 3× SignalR (deliveries/s)" + At(_options.Subscribers, 1000),
            a is null ? "not measured" : $"median {Ratio(a.Value)} (pairs: {Each(fanSignalR.Select(static p => p.Ratio!.Value), Ratio)})", Met(a >= 3, a));

        var fanNats = Pairs(Scenario.FanOut, ServerKind.Nats);
        double? b = Median(fanNats.Select(static p => p.Ratio!.Value));
        yield return ("Fan-out at 1,000 subscribers ≥ 1.3× NATS (deliveries/s)" + At(_options.Subscribers, 1000),
            b is null ? "not measured" : $"median {Ratio(b.Value)} (pairs: {Each(fanNats.Select(static p => p.Ratio!.Value), Ratio)})", Met(b >= 1.3, b));

        // Over every fan-out run of each server at the reference count (the broker's runs beside SignalR included).
        double? brokerCpu = CpuPerDelivery(Scenario.FanOut, reference);
        double? natsCpu = CpuPerDelivery(Scenario.FanOut, reference, ServerKind.Nats);
        yield return ("Fan-out at 1,000 subscribers: server CPU per delivery below NATS's" + At(reference, 1000),
            brokerCpu is null || natsCpu is null ? "not measured" : string.Create(Invariant, $"median {brokerCpu:0.00} µs against NATS's {natsCpu:0.00} µs"),
            Met(brokerCpu < natsCpu, brokerCpu is null || natsCpu is null ? null : brokerCpu / natsCpu));

        // The cost-per-delivery curve: each the median of the broker's runs over the median of its fan-out at the reference count.
        string Scaled(double? cost, double? natsCost) => cost is null || brokerCpu is null ? "not measured" : string.Create(Invariant,
            $"{Ratio(cost.Value / brokerCpu.Value)}: median {cost:0.00} µs against {brokerCpu:0.00} µs at {reference:N0}{(natsCost is { } n && natsCpu is { } n0 && n0 > 0 ? $" (NATS: {n:0.00} against {n0:0.00} µs, {Ratio(n / n0)})" : "")}");
        int largest = _options.FanOutCounts.Max();
        double? wide = largest == reference ? null : CpuPerDelivery(Scenario.FanOut, largest);
        yield return ("10,000 subscribers on one channel: server CPU per delivery ≤ 1.2× the fan-out's at 1,000" + (wide is null ? "" : At(largest, 10_000) + At(reference, 1000)),
            largest == reference ? "not measured (needs a second --subs count, e.g. --subs 1000,10000)" : Scaled(wide, CpuPerDelivery(Scenario.FanOut, largest, ServerKind.Nats)),
            Met(wide / brokerCpu <= 1.2, wide / brokerCpu));

        double? rooms = CpuPerDelivery(Scenario.Rooms);
        string roomShape = _options.Rooms == 1000 && _options.RoomSubscribers == 10 ? "" : string.Create(Invariant, $" (measured at {_options.Rooms:N0} × {_options.RoomSubscribers:N0})");
        yield return ("1,000 channels × 10 subscribers: server CPU per delivery ≤ 1.2× the fan-out's at 1,000" + (rooms is null ? "" : roomShape + At(reference, 1000)),
            Scaled(rooms, CpuPerDelivery(Scenario.Rooms, server: ServerKind.Nats)),
            Met(rooms / brokerCpu <= 1.2, rooms / brokerCpu));

        var paced = Pairs(Scenario.Paced, ServerKind.Nats);
        double? c = Median(paced.Select(static p => p.Ratio!.Value));
        yield return (string.Create(Invariant, $"Paced {_options.Rate}/s to {_options.Subscribers:N0} subscribers: p99 ≤ NATS"),
            c is null ? "not measured" : $"median {Ratio(c.Value)} of NATS (pairs: {Each(paced.Select(static p => p.Ratio!.Value), Ratio)}; broker p99 {Each(paced.Select(static p => p.Broker), Ms)}, NATS {Each(paced.Select(static p => p.Other), Ms)})",
            Met(c <= 1, c));

        var memory = fanNats.Select(static p => (Broker: p.BrokerPeakRssMiB, Nats: p.PeerPeakRssMiB)).ToList();
        double? d = Median(memory.Select(static m => m.Broker - m.Nats));
        yield return ("Peak memory at 1,000 subscribers ≤ NATS + 30 MiB" + At(_options.Subscribers, 1000),
            d is null ? "not measured" : string.Create(Invariant, $"median NATS {(d < 0 ? "−" : "+")} {Math.Abs(d.Value):0} MiB (pairs: {string.Join(", ", memory.Select(static m => string.Create(Invariant, $"{m.Broker:0} vs {m.Nats:0} MiB")))})"),
            Met(d <= 30, d));

        List<double> Idle(ServerKind server) => [.. _runs.Where(r => r.Scenario == Scenario.Idle && r.Server == server && r.Failure is null && r.KiBPerConnection is not null).Select(static r => r.KiBPerConnection!.Value)];
        var idle = Idle(ServerKind.Broker);
        var idleNats = Idle(ServerKind.Nats);
        double? e = Median(idle);
        yield return ("50,000 idle WebSockets, ≤ 12 KiB per connection" + At(_options.IdleConnections, 50_000),
            e is null ? "not measured" : $"median {e.Value.ToString("0.0", Invariant)} KiB (runs: {Each(idle, static v => v.ToString("0.0", Invariant))}){(idleNats.Count > 0 ? $"; NATS median {Median(idleNats)!.Value.ToString("0.0", Invariant)} KiB (runs: {Each(idleNats, static v => v.ToString("0.0", Invariant))})" : "")}", Met(e <= 12, e));

        var grpc = _runs.Where(static r => r.Scenario == Scenario.Grpc && r.Failure is null).ToList();
        double? f = Median(grpc.Select(static r => r.DeliveriesPerSecond));
        long grpcDropped = grpc.Sum(static r => r.Dropped);
        yield return ("One SDK gRPC subscriber ≥ 1,000,000 deliveries/s" + At(_options.GrpcSubscribers, 1),
            f is null ? "not measured" : $"median {Number(f.Value)}/s (runs: {Each(grpc.Select(static r => r.DeliveriesPerSecond), Number)}){(grpcDropped > 0 ? string.Create(Invariant, $"; the broker dropped {grpcDropped:N0} for the slow subscriber (DropOldest, reported as lagged)") : "")}",
            Met(f >= 1_000_000, f));

        foreach (var target in ClusterTargets())
        {
            yield return target;
        }
    }

    /// <summary>Issue 12's targets for the two-node cluster on Redis.</summary>
    private IEnumerable<(string Target, string Measured, string Met)> ClusterTargets()
    {
        string Each(IEnumerable<double> values, Func<double, string> format) => string.Join(", ", values.Select(format));
        List<RunResult> Runs(Scenario scenario, ServerKind server) => [.. _runs.Where(r => r.Scenario == scenario && r.Server == server && r.Failure is null)];

        var fanSignalR = _pairs.Where(static p => p.Scenario == Scenario.ClusterFanOut && p.Peer == ServerKind.SignalR && p.Ratio is not null).ToList();
        double? a = Median(fanSignalR.Select(static p => p.Ratio!.Value));
        yield return ("Two-node cluster fan-out ≥ 1.5× two SignalR instances on Redis (deliveries/s)",
            a is null ? "not measured" : $"median {Ratio(a.Value)} (pairs: {Each(fanSignalR.Select(static p => p.Ratio!.Value), Ratio)}; broker {Each(fanSignalR.Select(static p => p.Broker), Number)}, SignalR {Each(fanSignalR.Select(static p => p.Other), Number)})",
            Met(a >= 1.5, a));

        // Medians of the runs of one report: the single node's fan-out and the cluster's run at different moments.
        var cluster = Runs(Scenario.ClusterFanOut, ServerKind.Broker);
        var single = Runs(Scenario.FanOut, ServerKind.Broker);
        double? clusterRate = Median(cluster.Select(static r => r.DeliveriesPerSecond));
        double? singleRate = Median(single.Select(static r => r.DeliveriesPerSecond));
        double? b = clusterRate / singleRate;
        yield return ("Two-node cluster fan-out ≥ 0.7× one broker node (deliveries/s)",
            b is null ? "not measured (needs the fanout and clusterfanout scenarios)" : $"{Ratio(b.Value)}: cluster median {Number(clusterRate!.Value)} (runs: {Each(cluster.Select(static r => r.DeliveriesPerSecond), Number)}), one node median {Number(singleRate!.Value)} (runs: {Each(single.Select(static r => r.DeliveriesPerSecond), Number)})",
            Met(b >= 0.7, b));

        var paced = Runs(Scenario.ClusterPaced, ServerKind.Broker).Where(static r => r.CrossNodeP99Ms is not null).ToList();
        double? c = Median(paced.Select(static r => r.CrossNodeP99Ms!.Value));
        var pacedSignalR = Runs(Scenario.ClusterPaced, ServerKind.SignalR).Where(static r => r.CrossNodeP99Ms is not null).ToList();
        yield return (string.Create(Invariant, $"Cluster, paced {_options.ClusterRate:N0}/s to {_options.Subscribers:N0} subscribers: cross-node p99 ≤ 5 ms"),
            c is null ? "not measured" : $"median {Ms(c.Value)} (runs: {Each(paced.Select(static r => r.CrossNodeP99Ms!.Value), Ms)}){(pacedSignalR.Count > 0 ? $"; SignalR on Redis {Each(pacedSignalR.Select(static r => r.CrossNodeP99Ms!.Value), Ms)}" : "")}",
            Met(c <= 5, c));

        var brokerRuns = _runs.Where(static r => r.Scenario.IsCluster() && r.Server == ServerKind.Broker && r.Failure is null).ToList();
        var blipPeers = _runs.Where(static r => r.Scenario == Scenario.ClusterBlip && r.Server != ServerKind.Broker && r.Failure is null).ToList();
        long lost = brokerRuns.Sum(static r => r.Lost);
        yield return (string.Create(Invariant, $"Cluster: 0 messages lost by the broker, Redis blip ({_options.BlipSeconds} s SIGSTOP) included"),
            brokerRuns.Count == 0 ? "not measured" : string.Create(Invariant, $"{lost:N0} lost in {brokerRuns.Count} runs ({brokerRuns.Count(static r => r.Scenario == Scenario.ClusterBlip)} with the blip){(blipPeers.Count > 0 ? $"; SignalR on Redis lost {Each(blipPeers.Select(static r => (double)r.Lost), static v => v.ToString("N0", Invariant))} in the blip" : "")}"),
            Met(lost == 0, brokerRuns.Count == 0 ? null : lost));
    }

    private static double? Median(IEnumerable<double> values)
    {
        var list = values.Order().ToList();
        return list.Count == 0 ? null : list.Count % 2 == 1 ? list[list.Count / 2] : (list[(list.Count / 2) - 1] + list[list.Count / 2]) / 2;
    }

    private static string Ms(double value) => value.ToString("0.0", Invariant) + " ms";

    private static string Met(bool? met, double? measured) => measured is null ? "not measured" : met == true ? "yes" : "**no**";

    private static string Ratio(double ratio) => ratio.ToString("0.00", Invariant) + "×";

    private static string Number(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.00", Invariant) + " M",
        >= 10_000 => (value / 1000).ToString("0", Invariant) + " k",
        _ => value.ToString("0.##", Invariant),
    };

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
