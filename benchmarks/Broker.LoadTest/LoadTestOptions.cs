using System.Globalization;

namespace Broker.LoadTest;

/// <summary>The command line. Every number has a default for the full run and a smaller one for <c>--smoke</c>.</summary>
internal sealed record LoadTestOptions
{
    public bool Smoke { get; init; }

    /// <summary>
    /// Subscribers of the paced, many-channels and cluster scenarios, and of the first fan-out (the first of
    /// <c>--subs</c>).
    /// </summary>
    public int Subscribers { get; init; } = 1000;

    /// <summary>
    /// Every subscriber count the fan-out runs at (<c>--subs 1000,10000</c>), so one report holds the cost per delivery
    /// at each; empty: <see cref="Subscribers"/> alone.
    /// </summary>
    public IReadOnlyList<int> FanOutSubscribers { get; init; } = [];

    /// <summary>
    /// Publications per fan-out run at <see cref="Subscribers"/> and per many-channels run (20,000: twenty million
    /// deliveries at 1,000 subscribers). The fan-out at the other counts of <c>--subs</c> keeps the number of
    /// deliveries (<see cref="FanOutPublications"/>).
    /// </summary>
    public int Messages { get; init; } = 20_000;

    /// <summary>Channels of the rooms scenario.</summary>
    public int Rooms { get; init; } = 1000;

    /// <summary>Subscribers on each channel of the rooms scenario (<see cref="Rooms"/> × this sockets in all).</summary>
    public int RoomSubscribers { get; init; } = 10;

    /// <summary>
    /// Publications of the rooms scenario, round-robin over the rooms: 200,000, two million deliveries at 10 per room.
    /// Not the fan-out's twenty million: a subscriber of one room in a thousand gets a publication every few
    /// milliseconds at most, so every delivery is its own WebSocket message (1.0 deliveries per receive for every
    /// server) and a run made 19–33 k deliveries/s on the shared 2-core machine (tried at load average 25–30); twenty
    /// million would take ten minutes a run, past a run's five-minute limit. Two million keep the fixed costs of a run
    /// (the first wake-ups, the drain of the last deliveries) small beside the 15–28 µs of server CPU per delivery measured there.
    /// </summary>
    public long RoomMessages { get; init; } = 200_000;

    /// <summary>
    /// Client sockets per loopback source address (127.0.0.1, 127.0.0.2 …) at most: a run with more spreads them over
    /// several (<see cref="LoopbackSources"/>). One address has about 28,000 ephemeral ports per destination (Linux's
    /// default range); 20,000 leaves room for whatever else on the machine connects to the same port range, and keeps
    /// every run of up to 20,000 sockets (the fan-out at 10,000, the rooms) on 127.0.0.1 alone, as before.
    /// </summary>
    public int SocketsPerSource { get; init; } = 20_000;

    /// <summary>Payload size in bytes.</summary>
    public int PayloadBytes { get; init; } = 100;

    /// <summary>Publications per second of the paced scenario.</summary>
    public int Rate { get; init; } = 100;

    /// <summary>Length of the paced scenario.</summary>
    public double Seconds { get; init; } = 5;

    /// <summary>Sockets of the idle scenario.</summary>
    public int IdleConnections { get; init; } = 10_000;

    /// <summary>SDK subscribers of the gRPC scenario.</summary>
    public int GrpcSubscribers { get; init; } = 1;

    /// <summary>Publications of the gRPC scenario.</summary>
    public int GrpcMessages { get; init; } = 200_000;

    /// <summary>
    /// Publications sent before each measured part (not counted), followed by a 2 s pause, so every server and the
    /// client run warm code. 500 (half a million deliveries at 1,000 subscribers), the outside generator's rule of
    /// issue 13; with 200, a profile of the measured part still showed a fifth of the broker's CPU in the JIT and in
    /// tiered-PGO counters (docs/performance.md, "Method", says what 2,000 changes).
    /// </summary>
    public int Warmup { get; init; } = 500;

    /// <summary>
    /// The broker-side buffer each gRPC subscriber asks for (<c>SubscribeOptions.Buffer</c>), in publications. The
    /// broker's default, 1,024, is about 3 ms at 350 k/s: on a shared 2-core machine the stream's writer is
    /// descheduled that long routinely, and the DropOldest queue then drops. 0: the broker's default.
    /// </summary>
    public int GrpcBuffer { get; init; } = 65_536;

    /// <summary>
    /// Extra unmeasured publications before the gRPC scenario's measured part, after the common warm-up. The common
    /// warm-up at low concurrency leaves the batched paths (many messages per read, write and flush) cold: a short run then spends a
    /// good part of its CPU in the JIT (about 20 % of the broker's samples 6 s into a run), which the measurement
    /// would charge to the transport.
    /// </summary>
    public int GrpcWarmup { get; init; } = 50_000;

    /// <summary>Publications per second of the paced cluster scenarios (<c>ClusterPaced</c>, <c>ClusterBlip</c>).</summary>
    public int ClusterRate { get; init; } = 1000;

    /// <summary>How long redis-server stays stopped (SIGSTOP) in <c>ClusterBlip</c>, seconds.</summary>
    public double BlipSeconds { get; init; } = 1;

    /// <summary>
    /// Publications the broker keeps per channel of the <c>bench</c> namespace in the cluster scenarios
    /// (<c>HistorySize</c>). A node fills a gap in what Redis delivered from this history, so the broker's no-loss
    /// promise across a Redis blip needs it; 1,000 is one second at the default cluster rate. SignalR keeps none.
    /// </summary>
    public int ClusterHistory { get; init; } = 1000;

    /// <summary>Publications sent and not yet acknowledged, at most.</summary>
    public int InFlight { get; init; } = 64;

    /// <summary>
    /// Deliveries expected and not yet arrived (nor reported dropped), at most: the publisher waits before a
    /// publication that would pass it. An ack says the server took a publication, not that it delivered it, so
    /// without this bound a server that acks early lets the publisher run ahead and its queues grow (bigger write
    /// batches, or drops); 100,000, the outside generator's rule of issue 13. 0: no bound.
    /// </summary>
    public long Outstanding { get; init; } = 100_000;

    /// <summary>
    /// The broker's gRPC publisher in the WebSocket scenarios refills a full window by a quarter of it at a time (the
    /// gRPC scenario's rule) instead of per reply like every publisher: off by default; on, it shows what that rule,
    /// which the load test used for the broker alone until issue 13, changed.
    /// </summary>
    public bool BrokerRefillByQuarter { get; init; }

    /// <summary>Broker/peer pairs per scenario and peer.</summary>
    public int Pairs { get; init; } = 1;

    /// <summary>
    /// What runs, in enum order. The single-node scenarios by default (the cluster ones add minutes and a Redis);
    /// <c>--smoke</c> runs every one.
    /// </summary>
    public IReadOnlyList<Scenario> Scenarios { get; init; } = [.. Enum.GetValues<Scenario>().Where(static s => !s.IsCluster())];

    public IReadOnlyList<ServerKind> Servers { get; init; } = Enum.GetValues<ServerKind>();

    /// <summary>
    /// The broker to run: a <c>Broker.dll</c> (run with <c>dotnet</c>) or a native executable (a Native AOT publish,
    /// docs/performance.md); null: the repository's build output, <c>src/Broker/bin/Release/net10.0/Broker.dll</c>.
    /// </summary>
    public string? Broker { get; init; }

    /// <summary>Where results go; null: benchmarks/results (a temporary folder with --smoke).</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>How long deliveries may stall after the last publish before the rest count as lost.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public static readonly LoadTestOptions SmokeDefaults = new()
    {
        Smoke = true,
        Scenarios = Enum.GetValues<Scenario>(),
        Subscribers = 10,
        Messages = 200,
        Rooms = 3,
        RoomSubscribers = 4,
        RoomMessages = 500,
        // Several source addresses even at smoke size, so the path the 50,000 idle sockets take is run by ./test.sh.
        SocketsPerSource = 8,
        Rate = 200,
        Seconds = 0.5,
        ClusterRate = 200,
        BlipSeconds = 0.5,
        IdleConnections = 50,
        GrpcMessages = 2000,
        GrpcWarmup = 200,
        Warmup = 20,
        // Smaller than one publication's deliveries would never let the publisher go: a few publications' worth.
        Outstanding = 50,
        // Only waited for when something is missing: generous, so a busy CI machine does not turn a late message into a lost one.
        StallTimeout = TimeSpan.FromSeconds(15),
    };

    public const string Usage = """
        Broker.LoadTest: the broker against a plain SignalR hub and nats-server (WebSocket), one after another on loopback;
        in the cluster scenarios two broker nodes on one redis-server against two SignalR instances on its Redis backplane.

          --smoke               seconds, tiny numbers, every scenario (cluster too); exits 1 if a message was lost
          --subs N[,N…]         subscribers (fanout, paced, channels, cluster*)   default 1000
                                several: fanout runs at each (the others at the first)
          --msgs N              publications per (cluster)fanout / channels run   default 20000
                                (fanout at a later --subs count: as many deliveries)
          --rooms N             channels of the rooms scenario                    default 1000
          --room-subs N         subscribers per room                              default 10
          --room-msgs N         publications of the rooms run, round-robin        default 200000
          --sockets-per-source N  client sockets per loopback source address      default 20000
          --payload N           payload bytes                                     default 100
          --rate N              paced publications per second                     default 100
          --seconds S           paced run length (clusterblip: S + blip)          default 5
          --idle N              idle sockets                                      default 10000
          --cluster-rate N      paced rate of clusterpaced and clusterblip        default 1000
          --blip S              seconds redis-server is stopped (clusterblip)     default 1
          --cluster-history N   broker history per channel, cluster runs          default 1000
          --grpc-subs N         SDK gRPC subscribers                              default 1
          --grpc-msgs N         publications of the gRPC run                      default 200000
          --grpc-buffer N       broker-side buffer per gRPC subscriber (0: broker) default 65536
          --grpc-warmup N       extra gRPC publications before measuring          default 50000
          --warmup N            publications before each measured part            default 500
          --inflight N          publications in flight, at most                   default 64
          --outstanding N       deliveries expected and not arrived, at most (0: none)  default 100000
          --broker-refill-quarter  the broker's publisher refills by a quarter window (the old rule)
          --pairs N             broker/peer pairs per scenario and peer           default 1
          --scenarios a,b       fanout,paced,channels,rooms,grpc,idle,            default the first six
                                clusterfanout,clusterpaced,clusterblip;
                                cluster: the last three; all: every one;
                                soak: the soak alone (its options below)
          --servers a,b         broker,signalr,nats                               default all installed
          --broker PATH         the broker: a Broker.dll or a native executable   default src/Broker/bin/<cfg>/net10.0/Broker.dll
                                (dotnet publish src/Broker -c Release -r linux-x64 -p:PublishAot=true -o DIR: DIR/Broker)
          --out DIR             results folder                                    default benchmarks/results
        """;

    /// <summary>Scenario names, <c>cluster</c> for the three cluster ones, <c>all</c> for every one; run in the order given, once each.</summary>
    private static Scenario[] ParseScenarios(string list) =>
    [
        .. list.Split(',').SelectMany(static name => name.ToLowerInvariant() switch
        {
            "all" => Enum.GetValues<Scenario>(),
            "cluster" => Enum.GetValues<Scenario>().Where(static s => s.IsCluster()),
            _ => [Enum.Parse<Scenario>(name, ignoreCase: true)],
        }).Distinct(),
    ];

    public static LoadTestOptions Parse(IReadOnlyList<string> args)
    {
        var options = args.Contains("--smoke") ? SmokeDefaults : new LoadTestOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--smoke" => options,
                "--broker-refill-quarter" => options with { BrokerRefillByQuarter = true },
                "--subs" => Subs(options, Next()),
                "--rooms" => options with { Rooms = Int() },
                "--room-subs" => options with { RoomSubscribers = Int() },
                "--room-msgs" => options with { RoomMessages = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--sockets-per-source" => options with { SocketsPerSource = Int() },
                "--msgs" => options with { Messages = Int() },
                "--payload" => options with { PayloadBytes = Int() },
                "--rate" => options with { Rate = Int() },
                "--seconds" => options with { Seconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--idle" => options with { IdleConnections = Int() },
                "--cluster-rate" => options with { ClusterRate = Int() },
                "--blip" => options with { BlipSeconds = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--cluster-history" => options with { ClusterHistory = Int() },
                "--grpc-subs" => options with { GrpcSubscribers = Int() },
                "--grpc-msgs" => options with { GrpcMessages = Int() },
                "--grpc-buffer" => options with { GrpcBuffer = Int() },
                "--grpc-warmup" => options with { GrpcWarmup = Int() },
                "--warmup" => options with { Warmup = Int() },
                "--inflight" => options with { InFlight = Int() },
                "--outstanding" => options with { Outstanding = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--pairs" => options with { Pairs = Int() },
                "--scenarios" => options with { Scenarios = ParseScenarios(Next()) },
                "--servers" => options with { Servers = [.. Next().Split(',').Select(static s => Enum.Parse<ServerKind>(s, ignoreCase: true))] },
                "--broker" => options with { Broker = Path.GetFullPath(Next()) },
                "--out" => options with { OutputDirectory = Next() },
                _ => throw new ArgumentException($"unknown argument {args[i]}"),
            };
        }

        if (options.Subscribers < 1 || options.Messages < 1 || options.InFlight < 1 || options.Rate < 1 || options.Pairs < 1 || options.IdleConnections < 2 || options.PayloadBytes < 1 || options.GrpcBuffer < 0 || options.GrpcWarmup < 0 || options.Outstanding < 0
            || options.ClusterRate < 1 || options.ClusterHistory < 0 || !(options.BlipSeconds > 0)
            || options.Rooms < 1 || options.RoomSubscribers < 1 || options.RoomMessages < 1 || options.SocketsPerSource < 1 || options.FanOutCounts.Any(static n => n < 1))
        {
            throw new ArgumentException("counts must be positive");
        }

        if (options.SourcesFor(options.MaxSockets) > LoopbackSources.MaxCount)
        {
            throw new ArgumentException($"{options.MaxSockets:N0} sockets need more than {LoopbackSources.MaxCount} source addresses of {options.SocketsPerSource:N0}: raise --sockets-per-source");
        }

        return options;
    }

    /// <summary>The subscriber counts of the fan-out, the first one first.</summary>
    public IReadOnlyList<int> FanOutCounts => FanOutSubscribers.Count > 0 ? FanOutSubscribers : [Subscribers];

    /// <summary>
    /// Publications of a fan-out run at <paramref name="subscribers"/>: <see cref="Messages"/> at the first count, and at
    /// the others as many deliveries as that (2,000 at 10,000 subscribers beside 20,000 at 1,000), so a run's fixed
    /// costs weigh the same in its cost per delivery, and a 10,000-subscriber run stays within the time limit of a run.
    /// </summary>
    public long FanOutPublications(int subscribers) => Math.Max(1, (long)Messages * Subscribers / subscribers);

    /// <summary>The most client sockets one run of the chosen scenarios holds open at once.</summary>
    public int MaxSockets => Scenarios.Select(SocketsOf).DefaultIfEmpty(0).Max();

    /// <summary>The client sockets a run of <paramref name="scenario"/> holds open (the publisher's aside).</summary>
    public int SocketsOf(Scenario scenario) => scenario switch
    {
        Scenario.FanOut => FanOutCounts.Max(),
        Scenario.Rooms => Rooms * RoomSubscribers,
        Scenario.Idle => IdleConnections,
        Scenario.Grpc => GrpcSubscribers,
        _ => Subscribers,
    };

    /// <summary>Loopback source addresses for <paramref name="sockets"/> client sockets (<see cref="SocketsPerSource"/> each at most).</summary>
    public int SourcesFor(int sockets) => Math.Max(1, (sockets + SocketsPerSource - 1) / SocketsPerSource);

    private static LoadTestOptions Subs(LoadTestOptions options, string list)
    {
        int[] counts = [.. list.Split(',').Select(static n => int.Parse(n, CultureInfo.InvariantCulture)).Distinct()];
        return options with { Subscribers = counts[0], FanOutSubscribers = counts.Length > 1 ? counts : [] };
    }
}
