using System.Diagnostics;
using System.Globalization;

namespace Broker.LoadTest;

/// <summary>
/// Runs the scenarios in pairs: for each scenario and each peer, a broker run and a peer run (the broker first in odd
/// pairs, second in even ones), each on a fresh server process, so the two halves of a pair see the machine in the same
/// state; reports each pair's ratio.
/// </summary>
internal static class LoadTestRunner
{
    /// <summary>Runs the load test; 0 when every run delivered every message (or reported each drop), else 1; 2 for bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(LoadTestOptions.Usage);
            await output.WriteLineAsync(Soak.SoakOptions.Usage);
            return 0;
        }

        if (Soak.SoakOptions.Requested(args))
        {
            return await Soak.SoakRunner.RunAsync(args, output, cancellationToken);  // the broker alone, for minutes: its own runner
        }

        int from = Array.IndexOf(args, "--from");
        if (from >= 0 && from + 1 < args.Length)
        {
            return await RenderAsync(args[from + 1], output, cancellationToken);
        }

        LoadTestOptions options;
        try
        {
            options = LoadTestOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            await output.WriteLineAsync(ex.Message + "\n\n" + LoadTestOptions.Usage);
            return 2;
        }

        var paths = ServerProcess.Paths.Find(options.Broker);
        var servers = options.Servers.Where(paths.Has).ToList();
        foreach (var missing in options.Servers.Except(servers))
        {
            await output.WriteLineAsync($"skipping {missing}: not found (build the solution; nats-server comes from Debian's nats-server package)");
        }

        if (!servers.Contains(ServerKind.Broker))
        {
            await output.WriteLineAsync("the broker is not built: dotnet build -c Release");
            return 1;
        }

        if (!paths.HasRedis && options.Scenarios.Any(static s => s.IsCluster()))
        {
            await output.WriteLineAsync($"skipping the cluster scenarios: {paths.RedisServer} not found (Debian's redis-server package)");
            options = options with { Scenarios = [.. options.Scenarios.Where(static s => !s.IsCluster())] };
        }

        // Every client socket is a descriptor here, every accepted one a descriptor in the server (which inherits the limit).
        if (FileDescriptorLimit.Ensure(options.MaxSockets + FileDescriptorLimit.Headroom) is { } limit)
        {
            await output.WriteLineAsync(limit);
            return 2;
        }

        var clock = Stopwatch.StartNew();
        var loadAtStart = Report.LoadAverage();
        var runs = new List<RunResult>();
        var pairs = new List<PairResult>();
        await using (var progress = new ProgressLine(!Console.IsErrorRedirected && !options.Smoke))
        {
            var run = new ScenarioRun(options, paths, progress);
            // The fan-out runs at each --subs count, every other scenario at one.
            int[] Counts(Scenario scenario) => scenario == Scenario.FanOut ? [.. options.FanOutCounts] : [options.SocketsOf(scenario)];
            int total = options.Scenarios.Sum(s => Counts(s).Length * options.Pairs * Math.Max(1, 2 * servers.Count(k => s.HasPeer(k))));
            async Task<RunResult> One(Scenario scenario, ServerKind kind, int pair, int subscribers)
            {
                progress.Begin(string.Create(CultureInfo.InvariantCulture, $"run {runs.Count + 1}/{total}: {scenario} on {kind} at {subscribers:N0} (pair {pair})"));
                var result = await run.RunAsync(scenario, kind, pair, cancellationToken, subscribers);
                runs.Add(result);
                progress.Clear();
                await output.WriteLineAsync(Report.Line(result));
                return result;
            }

            if (!options.Smoke)
            {
                // One unreported fan-out first: the load generator's own code gets compiled and tiered up here, not in
                // the first pair's broker run (which would otherwise pay for it alone).
                progress.Begin("warming up the load generator (not reported)");
                var warm = new ScenarioRun(options with { Messages = Math.Max(1, options.Messages / 5) }, paths, progress);
                await warm.RunAsync(Scenario.FanOut, ServerKind.Broker, 0, cancellationToken, options.Subscribers);
                progress.Clear();
            }

            foreach (var scenario in options.Scenarios)
            {
                foreach (int subscribers in Counts(scenario))
                {
                    for (int pair = 1; pair <= options.Pairs; pair++)
                    {
                        var peers = servers.Where(k => scenario.HasPeer(k)).ToList();
                        if (peers.Count == 0)
                        {
                            await One(scenario, ServerKind.Broker, pair, subscribers);  // gRPC: the peers have no gRPC subscribers
                            continue;
                        }

                        foreach (var peer in peers)
                        {
                            // Odd pairs run the broker first, even pairs the peer: a machine getting busier (or quieter)
                            // during a pair does not always favour the same side.
                            bool brokerFirst = pair % 2 == 1;
                            var firstRun = await One(scenario, brokerFirst ? ServerKind.Broker : peer, pair, subscribers);
                            var secondRun = await One(scenario, brokerFirst ? peer : ServerKind.Broker, pair, subscribers);
                            pairs.Add(brokerFirst ? PairResult.Of(firstRun, secondRun) : PairResult.Of(secondRun, firstRun));
                        }
                    }
                }
            }
        }

        var report = new Report(options, args, runs, pairs, clock.Elapsed, loadAtStart);
        return await WriteAsync(report, options, paths, runs, clock.Elapsed, output, cancellationToken);
    }

    /// <summary>
    /// <c>--from results/loadtest.json</c>: renders the tables, the targets and the chart again from a run's JSON (next to
    /// it), e.g. after a change to the report, without measuring again.
    /// </summary>
    private static async Task<int> RenderAsync(string file, TextWriter output, CancellationToken cancellationToken)
    {
        var saved = Report.Load(await File.ReadAllTextAsync(file, cancellationToken));
        var pairs = new List<PairResult>();
        for (int i = 0; i + 1 < saved.Runs.Count; i++)
        {
            // Runs were written in order: the two runs of a pair next to each other, the broker's first in odd pairs
            // and second in even ones (gRPC runs have no peer). A failed run of an older file says 0 subscribers.
            var (a, b) = (saved.Runs[i], saved.Runs[i + 1]);
            if (a.Scenario == b.Scenario && a.Pair == b.Pair && (a.Subscribers == b.Subscribers || a.Subscribers == 0 || b.Subscribers == 0) && (a.Server == ServerKind.Broker) != (b.Server == ServerKind.Broker))
            {
                pairs.Add(a.Server == ServerKind.Broker ? PairResult.Of(a, b) : PairResult.Of(b, a));
                i++;
            }
        }

        var options = saved.Options;
        var report = new Report(options, saved.Args, saved.Runs, pairs, TimeSpan.FromSeconds(saved.ElapsedSeconds), saved.LoadAverageAtStart, saved.LoadAverageAtEnd, saved.Finished);
        return await WriteAsync(report, options with { OutputDirectory = Path.GetDirectoryName(Path.GetFullPath(file)) }, ServerProcess.Paths.Find(), saved.Runs, report.Elapsed, output, cancellationToken);
    }

    private static async Task<int> WriteAsync(Report report, LoadTestOptions options, ServerProcess.Paths paths, IReadOnlyList<RunResult> runs, TimeSpan elapsed, TextWriter output, CancellationToken cancellationToken)
    {
        var directory = options.OutputDirectory ?? (options.Smoke
            ? Path.Combine(Path.GetTempPath(), "broker-loadtest-smoke")
            : Path.Combine(paths.Root, "benchmarks", "results"));
        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "loadtest.md"), report.Markdown(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "loadtest.json"), report.Json(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "loadtest.svg"), report.Svg(), cancellationToken);
        await output.WriteLineAsync();
        await output.WriteLineAsync(report.Markdown());
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"results: {directory}/loadtest.{{md,json,svg}} ({elapsed.TotalSeconds:0} s)"));

        var bad = runs.Where(static r => !r.Ok).ToList();
        foreach (var failed in bad)
        {
            await output.WriteLineAsync($"FAILED: {failed.Scenario} on {failed.Server} (pair {failed.Pair}): lost {failed.Lost}, errors {failed.Errors}{(failed.Failure is null ? "" : ", " + failed.Failure)}");
        }

        return bad.Count == 0 ? 0 : 1;
    }
}
