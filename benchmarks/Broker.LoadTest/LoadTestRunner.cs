using System.Diagnostics;
using System.Globalization;

namespace Broker.LoadTest;

/// <summary>
/// Runs the scenarios in pairs: for each scenario and each peer, a broker run then a peer run, each on a fresh
/// server process, so the two halves of a pair see the machine in the same state; reports each pair's ratio.
/// </summary>
internal static class LoadTestRunner
{
    /// <summary>Runs the load test; 0 when every run delivered every message (or reported each drop), else 1; 2 for bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(LoadTestOptions.Usage);
            return 0;
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

        var paths = ServerProcess.Paths.Find();
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

        var clock = Stopwatch.StartNew();
        var runs = new List<RunResult>();
        var pairs = new List<PairResult>();
        await using (var progress = new ProgressLine(!Console.IsErrorRedirected && !options.Smoke))
        {
            var run = new ScenarioRun(options, paths, progress);
            int total = options.Scenarios.Sum(s => s == Scenario.Grpc ? options.Pairs : options.Pairs * 2 * servers.Count(k => k != ServerKind.Broker));
            async Task<RunResult> One(Scenario scenario, ServerKind kind, int pair)
            {
                progress.Begin($"run {runs.Count + 1}/{total}: {scenario} on {kind} (pair {pair})");
                var result = await run.RunAsync(scenario, kind, pair, cancellationToken);
                runs.Add(result);
                progress.Clear();
                await output.WriteLineAsync(Report.Line(result));
                return result;
            }

            foreach (var scenario in options.Scenarios)
            {
                for (int pair = 1; pair <= options.Pairs; pair++)
                {
                    if (scenario == Scenario.Grpc)
                    {
                        await One(scenario, ServerKind.Broker, pair);  // the peers have no gRPC subscribers
                        continue;
                    }

                    foreach (var peer in servers.Where(static k => k != ServerKind.Broker))
                    {
                        var broker = await One(scenario, ServerKind.Broker, pair);
                        var other = await One(scenario, peer, pair);
                        pairs.Add(PairResult.Of(broker, other));
                    }
                }
            }
        }

        var report = new Report(options, args, runs, pairs, clock.Elapsed);
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
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"results: {directory}/loadtest.{{md,json,svg}} ({clock.Elapsed.TotalSeconds:0} s)"));

        var bad = runs.Where(static r => !r.Ok).ToList();
        foreach (var failed in bad)
        {
            await output.WriteLineAsync($"FAILED: {failed.Scenario} on {failed.Server} (pair {failed.Pair}): lost {failed.Lost}, errors {failed.Errors}{(failed.Failure is null ? "" : ", " + failed.Failure)}");
        }

        return bad.Count == 0 ? 0 : 1;
    }
}
