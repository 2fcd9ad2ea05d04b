using System.Globalization;

namespace Broker.LoadTest.Soak;

/// <summary>
/// <c>--scenarios soak</c>: starts the broker (Release, as the other scenarios do) with the soak's namespace, runs
/// <see cref="SoakScenario"/>, writes soak.{md,json} and the RSS curve (soak-rss.{csv,svg}) and says whether every end
/// condition held.
/// </summary>
internal static class SoakRunner
{
    /// <summary>0 when every end condition held, 1 when one did not, 2 for bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        SoakOptions options;
        try
        {
            options = SoakOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            await output.WriteLineAsync(ex.Message + "\n\n" + SoakOptions.Usage);
            return 2;
        }

        var paths = ServerProcess.Paths.Find();
        if (!paths.Has(ServerKind.Broker))
        {
            await output.WriteLineAsync("the broker is not built: dotnet build -c Release");
            return 1;
        }

        string loadAtStart = Report.LoadAverage();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"soak: {options.Sockets} sockets over {options.Sources} source addresses, {options.Duration.TotalSeconds:0} s, churn {options.ChurnPerSecond}/s, {options.PublishPerSecond} publications/s, seed {options.Seed}"));
        await using var progress = new ProgressLine(!Console.IsErrorRedirected);
        progress.Begin("soak");
        await using var server = await ServerProcess.StartAsync(ServerKind.Broker, paths, cancellationToken, settings: Settings);
        var scenario = new SoakScenario(options, server, progress.Set);
        SoakResult result;
        try
        {
            result = await scenario.RunAsync(cancellationToken);
        }
        finally
        {
            progress.Clear();
        }

        result = result with
        {
            Command = "dotnet run -c Release --project benchmarks/Broker.LoadTest -- " + string.Join(' ', args),
            Machine = Report.Machine(),
            LoadAverageAtStart = loadAtStart,
            LoadAverageAtEnd = Report.LoadAverage(),
            Curve = scenario.Curve.Samples,
        };

        var directory = Path.GetFullPath(options.OutputDirectory ?? Path.Combine(paths.Root, "benchmarks", "results", "soak"));
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "soak.md"), result.Markdown(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "soak.json"), result.Json(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "soak-rss.csv"), scenario.Curve.Csv(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "soak-rss.svg"), scenario.Curve.Svg(options.RssWarmup.TotalSeconds, result.ChurnEndSeconds,
            string.Create(CultureInfo.InvariantCulture, $"Broker RSS during the soak: {options.Sockets:N0} sockets, churn {options.ChurnPerSecond}/s, seed {options.Seed} ({result.Rss.Text})")), cancellationToken);
        await output.WriteLineAsync(result.Markdown());
        await output.WriteLineAsync($"results: {directory}/soak.{{md,json}}, soak-rss.{{csv,svg}}");
        foreach (var failure in result.Failures)
        {
            await output.WriteLineAsync("FAILED: " + failure);
        }

        return result.Ok ? 0 : 1;
    }

    /// <summary>
    /// The broker's settings for the soak, beside the load test's own (anonymous hello, no per-address limit):
    /// the <c>soak</c> namespace, open to anonymous browsers, with 30 s of history so that a resume (which takes under a
    /// second) always recovers while the rings stop growing within the warm-up; and sessions idle after 30 s instead of
    /// 20 min, so the anonymous sessions the churn leaves behind (a new one per anonymous hello, by design) are swept
    /// within the warm-up too: the RSS curve then shows what a connection leaves behind, not the session store's
    /// designed growth toward <c>Broker:Sessions:MaxCount</c>. Everything else is the broker's default.
    /// </summary>
    private static readonly Dictionary<string, string> Settings = new(StringComparer.Ordinal)
    {
        ["Broker__Namespaces__soak__Subscribe"] = "anyone",
        ["Broker__Namespaces__soak__Publish"] = "anyone",
        ["Broker__Namespaces__soak__HistorySize"] = "1000",
        ["Broker__Namespaces__soak__HistoryTtl"] = "00:00:30",
        ["Broker__Sessions__IdleTimeout"] = "00:00:30",
        // The load generator shares the cores with the broker (and, on a shared machine, with others): starved, it once
        // took over 5 s (the default) from an upgrade to its hello, 19 times in a 10-minute soak at a load average of
        // 70. The soak looks for what churn leaves behind; the hello timeout has its own tests (Hostile/).
        ["Broker__WebSocket__HelloTimeout"] = "00:00:30",
    };
}
