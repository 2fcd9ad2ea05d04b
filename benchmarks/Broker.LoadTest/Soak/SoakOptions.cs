using System.Globalization;

namespace Broker.LoadTest.Soak;

/// <summary>
/// The soak's command line (<c>--scenarios soak</c>): minutes of WebSocket churn against the broker alone, then the
/// end conditions of issue 14 checked. The defaults are the full soak; the smoke test passes small numbers.
/// </summary>
internal sealed record SoakOptions
{
    /// <summary>
    /// How long sockets churn and publish, before the soak quiesces and checks. 15 minutes: the broker's RSS rose in GC
    /// steps for 8–10 minutes before it levelled off (docs/performance.md, "Soak"), so a 10-minute run judges steps.
    /// </summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Sockets kept connected (each slot reconnects after it churns, so the population stays near this).</summary>
    public int Sockets { get; init; } = 5000;

    /// <summary>Sockets ended per second (abruptly, with a close, or to reconnect with <c>resume</c>).</summary>
    public double ChurnPerSecond { get; init; } = 50;

    /// <summary>Publications per second, all sockets together, each from a random connected socket.</summary>
    public double PublishPerSecond { get; init; } = 100;

    /// <summary>Room channels (<c>soak:room.N</c>) the sockets pick from, beside the one broadcast channel <c>soak:all</c>.</summary>
    public int Rooms { get; init; } = 100;

    /// <summary>Payload bytes of a publication.</summary>
    public int PayloadBytes { get; init; } = 100;

    /// <summary>The seed of every random choice (auth mode, channels, who publishes, who churns and how).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Loopback source addresses the sockets spread over (127.0.0.1 … 127.0.0.N): each address has its own 28,000
    /// ephemeral ports, so minutes of churn (sockets in TIME_WAIT) cannot run out of them.
    /// </summary>
    public int Sources { get; init; } = 4;

    /// <summary>How often the broker's RSS and <c>/stats</c> are sampled.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The start of the run the RSS verdict never looks at (JIT, pools and GC heaps growing to their working size).</summary>
    public TimeSpan RssWarmup { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The RSS verdict looks at the last this-long of the churn (never before <see cref="RssWarmup"/>); a run whose churn
    /// after the warm-up is shorter reports its curve unjudged. Five minutes: the runtime's GC keeps committing memory
    /// in steps until its full collections settle, which with sockets living about 100 s each took 8–10 minutes
    /// (measured: the live heap after a full GC stayed at 105–107 MB while RSS rose 20–40 MiB/min in the first four).
    /// </summary>
    public TimeSpan RssWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// "Flat": the least-squares slope of RSS over <see cref="RssWindow"/> is at most this, MiB per minute. 6 MiB/min is a
    /// tenth of leaking each churned socket's whole object graph (about 21 KB per socket: 105 MB live for 5,000) at
    /// the default 50 a second, or about 2 KiB per churned socket: a leaked receive buffer or queue would show.
    /// </summary>
    public double RssMaxSlopeMiBPerMinute { get; init; } = 6;

    /// <summary>How long <c>/stats</c> may take to come back to 0 connections and 0 subscriptions after the last socket closed.</summary>
    public TimeSpan StatsDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long deliveries may stall after the last publication before what is missing counts as lost.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Where soak.{md,json,csv,svg} go; null: benchmarks/results/soak.</summary>
    public string? OutputDirectory { get; init; }

    public const string Usage = """
        Broker.LoadTest --scenarios soak: minutes of WebSocket churn against the broker alone (issue 14). At the end,
        /stats must be back to 0 connections and 0 subscriptions, the broker's RSS flat after the warm-up, every
        acknowledged publication delivered to every subscriber that stayed (or told as lagged), no Error in its log.

          --duration S          seconds of churn and publishing                   default 900
          --sockets N           sockets kept connected                            default 5000
          --churn N             sockets ended (and replaced) per second           default 50
          --publish-rate N      publications per second, all sockets              default 100
          --rooms N             room channels beside soak:all                     default 100
          --payload N           payload bytes                                     default 100
          --seed N              seed of every random choice                       default 1
          --sources N           loopback source addresses 127.0.0.1..N            default 4
          --sample S            seconds between RSS and /stats samples            default 5
          --rss-warmup S        seconds the RSS verdict never looks at            default 60
          --rss-window S        flat: judged over the churn's last S seconds      default 300
          --rss-max-slope X     flat: RSS slope over that window, MiB/min, at most default 6
          --out DIR             results folder                                    default benchmarks/results/soak
        """;

    /// <summary>Whether the command line asks for the soak: <c>--scenarios soak</c>.</summary>
    public static bool Requested(IReadOnlyList<string> args)
    {
        for (int i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == "--scenarios" && string.Equals(args[i + 1], "soak", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static SoakOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SoakOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--scenarios" => Next().Equals("soak", StringComparison.OrdinalIgnoreCase) ? options : throw new ArgumentException("the soak runs alone: --scenarios soak"),
                "--duration" => options with { Duration = TimeSpan.FromSeconds(Number()) },
                "--sockets" => options with { Sockets = Int() },
                "--churn" => options with { ChurnPerSecond = Number() },
                "--publish-rate" => options with { PublishPerSecond = Number() },
                "--rooms" => options with { Rooms = Int() },
                "--payload" => options with { PayloadBytes = Int() },
                "--seed" => options with { Seed = Int() },
                "--sources" => options with { Sources = Int() },
                "--sample" => options with { SampleInterval = TimeSpan.FromSeconds(Number()) },
                "--rss-warmup" => options with { RssWarmup = TimeSpan.FromSeconds(Number()) },
                "--rss-window" => options with { RssWindow = TimeSpan.FromSeconds(Number()) },
                "--rss-max-slope" => options with { RssMaxSlopeMiBPerMinute = Number() },
                "--out" => options with { OutputDirectory = Next() },
                _ => throw new ArgumentException($"unknown soak argument {args[i]}"),
            };
        }

        if (options.Sockets < 2 || options.Rooms < 1 || options.PayloadBytes < 16 || options.Sources < 1 || options.Sources > LoopbackSources.MaxCount
            || !(options.ChurnPerSecond >= 0) || !(options.PublishPerSecond > 0) || options.Duration <= TimeSpan.Zero
            || options.SampleInterval <= TimeSpan.Zero || options.RssWindow <= TimeSpan.Zero || !(options.RssMaxSlopeMiBPerMinute > 0))
        {
            throw new ArgumentException("soak counts, rates and times must be positive (--sockets at least 2, --payload at least 16, --sources 1 to 254)");
        }

        return options;
    }
}
