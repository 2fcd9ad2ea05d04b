using System.Diagnostics;
using Broker.Sdk;

namespace Broker.LoadTest;

/// <summary>One scenario against one freshly started server: connect, subscribe, publish, count, sample, stop.</summary>
internal sealed class ScenarioRun
{
    private const string Room = "room";
    private readonly LoadTestOptions _options;
    private readonly ServerProcess.Paths _paths;
    private readonly ProgressLine _progress;

    public ScenarioRun(LoadTestOptions options, ServerProcess.Paths paths, ProgressLine progress)
    {
        _options = options;
        _paths = paths;
        _progress = progress;
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> on a fresh <paramref name="kind"/> with <paramref name="subscribers"/> client
    /// sockets (the fan-out's count of this run; the other scenarios take theirs from the options when null).
    /// </summary>
    public async Task<RunResult> RunAsync(Scenario scenario, ServerKind kind, int pair, CancellationToken cancellationToken, int? subscribers = null)
    {
        int sockets = subscribers ?? _options.SocketsOf(scenario);
        var empty = new RunResult { Scenario = scenario, Server = kind, Pair = pair, Subscribers = sockets };
        try
        {
            // No run may hang the load test: five minutes is far beyond any run the options allow in 10 minutes.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(5));
            if (scenario.IsCluster())
            {
                await using var cluster = await ServerCluster.StartAsync(kind, _paths, _options.ClusterHistory, timeout.Token);
                try
                {
                    var result = await WebSocketAsync(cluster.Nodes, cluster.CpuTime, cluster.Redis, kind, scenario, sockets, empty, timeout.Token);
                    return result with { ServerPeakRssMiB = cluster.PeakRss() / 1048576.0 };
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    return empty with { Failure = ex.GetType().Name + ": " + ex.Message + Tail(cluster.Output()) };
                }
            }

            await using var server = await ServerProcess.StartAsync(kind, _paths, timeout.Token);
            try
            {
                var result = scenario switch
                {
                    Scenario.Idle => await IdleAsync(server, kind, empty, timeout.Token),
                    Scenario.Grpc => await GrpcAsync(server, empty, timeout.Token),
                    _ => await WebSocketAsync([server], server.CpuTime, null, kind, scenario, sockets, empty, timeout.Token),
                };
                return result with { ServerPeakRssMiB = server.PeakRss() / 1048576.0 };
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return empty with { Failure = ex.GetType().Name + ": " + ex.Message + Tail(server.Output()) };
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return empty with { Failure = ex.GetType().Name + ": " + ex.Message };
        }
    }

    private static string Tail(string output) => output.Length == 0 ? "" : "\n  server output: " + output[Math.Max(0, output.Length - 1000)..];

    /// <summary>
    /// The WebSocket scenarios on one server or on a cluster's nodes: subscriber i connects to node i mod nodes, the
    /// publisher to the first node; deliveries to the other nodes' subscribers are also counted apart (cross-node).
    /// <paramref name="redis"/> is the cluster's Redis, stopped for a while in the blip scenario.
    /// </summary>
    private async Task<RunResult> WebSocketAsync(IReadOnlyList<ServerProcess> nodes, Func<TimeSpan> serverCpu, RedisServer? redis, ServerKind kind, Scenario scenario, int subscribers, RunResult result, CancellationToken cancellationToken)
    {
        var protocol = WireProtocol.For(kind);
        using var sources = new LoopbackSources(_options.SourcesFor(subscribers));
        var clients = new WsClient[subscribers];
        try
        {
            await ConnectAsync(clients, [.. nodes.Select(static n => n.WebSocket)], protocol, sources, WsClient.DefaultReceiveBufferSize, cancellationToken);

            // The rooms scenario: subscriber i on room i mod rooms, so every room has RoomSubscribers (subscribers is
            // Rooms × RoomSubscribers); every other scenario has the one shared room.
            var rooms = scenario == Scenario.Rooms
                ? Enumerable.Range(0, _options.Rooms).Select(r => protocol.Channel("r" + r)).ToArray()
                : [protocol.Channel(Room)];

            // Subscribe: the room, and in the many-channels scenario each subscriber's own channel too.
            int perClient = scenario == Scenario.Channels ? 2 : 1;
            long acksBefore = clients.Sum(static c => c.Acks);
            _progress.Set($"subscribing {subscribers * perClient}");
            await Parallel.ForEachAsync(Enumerable.Range(0, subscribers), Parallelism(cancellationToken), async (i, ct) =>
            {
                await clients[i].SendAsync(protocol.Subscribe(rooms[i % rooms.Length], 2), ct);
                if (perClient == 2)
                {
                    await clients[i].SendAsync(protocol.Subscribe(protocol.Channel("s" + i), 3), ct);
                }
            });
            await Until.TrueAsync(() => clients.Sum(static c => c.Acks) - acksBefore >= (long)subscribers * perClient, TimeSpan.FromSeconds(120), "subscriptions", cancellationToken);

            var first = nodes[0];
            await using Publisher publisher = kind == ServerKind.Broker
                ? new GrpcPublisher(first.Grpc!, _options.InFlight, _options.BrokerRefillByQuarter)
                : await WsPublisher.ConnectAsync(first.WebSocket, protocol, _options.InFlight, sources.WebSocket(0), cancellationToken);

            await WarmUpAsync(publisher, rooms, cancellationToken);
            int rate = scenario == Scenario.Paced ? _options.Rate : _options.ClusterRate;
            double seconds = scenario == Scenario.ClusterBlip ? _options.Seconds + _options.BlipSeconds : _options.Seconds;
            long publications = scenario switch
            {
                _ when scenario.IsPaced() => Math.Max(1, (long)(rate * seconds)),
                Scenario.Channels => 2L * _options.Messages,
                Scenario.Rooms => _options.RoomMessages,
                Scenario.FanOut => _options.FanOutPublications(subscribers),
                _ => _options.Messages,
            };
            // Deliveries of one publication to a room (the rooms scenario) or to the shared one.
            int perRoom = subscribers / rooms.Length;
            long expected = scenario == Scenario.Channels ? ((long)_options.Messages * subscribers) + _options.Messages : publications * perRoom;
            var own = scenario == Scenario.Channels ? Enumerable.Range(0, subscribers).Select(i => protocol.Channel("s" + i)).ToArray() : [];

            // In a cluster every subscriber gets every publication: count exactly which arrived, so a publication the
            // server refused (its publisher was told) is told apart from one it acknowledged and lost.
            bool exact = scenario.IsCluster();
            if (exact)
            {
                foreach (var client in clients)
                {
                    client.TrackSequences(publications);
                }
            }

            // The same bound for every server on deliveries in the pipe (the ack only says the server took a
            // publication): the warm-up's are unmarked and not counted, so the bound starts here.
            var outstanding = new OutstandingDeliveries(_options.Outstanding, _options.StallTimeout);
            foreach (var client in clients)
            {
                client.Outstanding = outstanding;
            }

            long sent = 0;

            // The blip: Redis stopped a third of the way into the run, continued BlipSeconds later.
            long blipAt = scenario == Scenario.ClusterBlip ? publications / 3 : -1;
            var blip = Task.CompletedTask;
            long bytesBefore = clients.Sum(static c => c.ReceivedBytes);
            var measure = Measurement.Start(serverCpu);
            _progress.Set(() => Status("publishing", clients.Sum(static c => c.Delivered), expected, measure));
            long start = measure.Started;
            long interval = Stopwatch.Frequency / rate;
            try
            {
                for (long seq = 0; seq < publications; seq++)
                {
                    long stamp = Stopwatch.GetTimestamp();
                    if (scenario.IsPaced())
                    {
                        // Latency counts from the scheduled send time, so a publisher held back by a slow server shows it.
                        stamp = start + (seq * interval);
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), stamp);
                        if (wait > TimeSpan.Zero)
                        {
                            await Task.Delay(wait, cancellationToken);
                        }
                    }

                    if (seq == blipAt)
                    {
                        blip = BlipAsync(redis!, cancellationToken);
                    }

                    bool toOwn = scenario == Scenario.Channels && (seq & 1) == 1;
                    long deliveries = toOwn ? 1 : perRoom;
                    // A refused publication (cluster) is delivered to nobody: its deliveries are not owed.
                    await outstanding.WaitForRoomAsync(sent - (publisher.RefusedCount * subscribers), deliveries, cancellationToken);
                    // Round-robin over the rooms (one room but in the rooms scenario).
                    var channel = toOwn ? own[(seq / 2) % subscribers] : rooms[seq % rooms.Length];
                    await publisher.PublishAsync(channel, Payload.Create(stamp, seq, _options.PayloadBytes), cancellationToken, seq);
                    sent += deliveries;
                }
            }
            finally
            {
                await blip;
            }

            await publisher.DrainAsync(cancellationToken);
            var refused = publisher.Refused();
            if (exact)
            {
                expected = (publications - refused.Count) * subscribers;
            }

            await WaitForDeliveriesAsync(() => clients.Sum(static c => c.Delivered + c.Dropped), expected, cancellationToken);
            if (exact && refused.Count > 0)
            {
                // A refused publication may still have been delivered (docs/cluster.md), so the count can reach the
                // expected one early: then wait for the acknowledged publications themselves (a full count per poll,
                // affordable in this rare case only).
                await WaitForDeliveriesAsync(() => expected - clients.Sum(c => c.Missing(publications, refused)) + clients.Sum(static c => c.Dropped), expected, cancellationToken);
            }

            var latency = new LatencyHistogram();
            var crossNode = new LatencyHistogram();
            long last = start;
            for (int i = 0; i < clients.Length; i++)
            {
                if (clients[i].Latency is { } histogram)
                {
                    latency.Add(histogram);
                    if (i % nodes.Count != 0)
                    {
                        crossNode.Add(histogram);
                    }
                }

                last = Math.Max(last, clients[i].LastDelivery);
            }

            long delivered = clients.Sum(static c => c.Delivered);
            long dropped = clients.Sum(static c => c.Dropped);
            long receives = clients.Sum(static c => c.DeliveringReceives);
            long bytes = clients.Sum(static c => c.ReceivedBytes) - bytesBefore;
            // Exact: the acknowledged publications that never arrived, less what the server said it dropped.
            long lost = exact ? Math.Max(0, clients.Sum(c => c.Missing(publications, refused)) - dropped) : Math.Max(0, expected - delivered - dropped);
            // In the blip a refusal is the contract at work (the publisher was told, PROTOCOL.md: unavailable), not an error.
            long errors = publisher.Errors + clients.Sum(static c => c.Errors) - (scenario == Scenario.ClusterBlip ? refused.Count : 0);
            return measure.Complete(result, last, latency) with
            {
                Subscribers = subscribers,
                Publications = publications,
                Expected = expected,
                Delivered = delivered,
                Dropped = dropped,
                Lost = lost,
                Errors = errors,
                Refused = exact ? refused.Count : null,
                Duplicates = exact ? clients.Sum(static c => c.Duplicates) : null,
                CrossNodeDelivered = nodes.Count > 1 ? crossNode.Count : null,
                CrossNodeP99Ms = nodes.Count > 1 ? crossNode.Quantile(0.99) / 1000.0 : null,
                DeliveriesPerReceive = receives > 0 ? (double)delivered / receives : null,
                BytesPerDelivery = delivered > 0 ? (double)bytes / delivered : null,
            };
        }
        finally
        {
            _progress.Set("closing");
            await Parallel.ForEachAsync(clients, Parallelism(CancellationToken.None), static async (c, _) =>
            {
                if (c is not null)
                {
                    await c.DisposeAsync();
                }
            });
        }
    }

    /// <summary>Stops Redis (SIGSTOP) for <c>--blip</c> seconds, then continues it; continued even when the run is cancelled.</summary>
    private async Task BlipAsync(RedisServer redis, CancellationToken cancellationToken)
    {
        redis.Pause();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(_options.BlipSeconds), cancellationToken);
        }
        finally
        {
            redis.Resume();
        }
    }

    private async Task<RunResult> GrpcAsync(ServerProcess server, RunResult result, CancellationToken cancellationToken)
    {
        int subscribers = _options.GrpcSubscribers;
        long publications = _options.GrpcMessages;
        var clients = Enumerable.Range(0, subscribers).Select(_ => new BrokerClient(new BrokerClientOptions { Address = server.Grpc! })).ToArray();
        var histograms = new LatencyHistogram[subscribers];
        var counts = new long[subscribers];
        var lastDelivery = new long[subscribers];
        long subscribed = 0;
        long dropped = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var options = new SubscribeOptions
        {
            OnSubscribed = _ => Interlocked.Increment(ref subscribed),
            OnLagged = lagged => Interlocked.Add(ref dropped, (long)lagged.Dropped),
            Buffer = _options.GrpcBuffer,
        };
        double ticksPerMicrosecond = Stopwatch.Frequency / 1_000_000.0;
        var readers = Enumerable.Range(0, subscribers).Select(i => Task.Run(async () =>
        {
            var histogram = histograms[i] = new LatencyHistogram();
            await foreach (var publication in clients[i].SubscribeAsync(["bench:" + Room], null, options, stop.Token))
            {
                long now = Stopwatch.GetTimestamp();
                var data = publication.Data.Span;
                int at = data.IndexOf(Payload.Marker);
                if (at < 0)
                {
                    continue;  // a warm-up publication
                }

                at += Payload.Marker.Length;
                long stamp = 0;
                while (at < data.Length && (uint)(data[at] - '0') <= 9)
                {
                    stamp = (stamp * 10) + (data[at++] - '0');
                }

                histogram.Record((long)((now - stamp) / ticksPerMicrosecond));
                lastDelivery[i] = now;
                if (Interlocked.Increment(ref counts[i]) == publications)
                {
                    return;
                }
            }
        }, CancellationToken.None)).ToArray();

        try
        {
            await Until.TrueAsync(() => Interlocked.Read(ref subscribed) >= subscribers, TimeSpan.FromSeconds(30), "gRPC subscriptions", cancellationToken);
            await using var publisher = new GrpcPublisher(server.Grpc!, _options.InFlight, refillByQuarter: true);
            await WarmUpAsync(publisher, ["bench:" + Room], cancellationToken);
            if (_options.GrpcWarmup > 0)
            {
                // At full speed, so the batched paths run (and tier up) before the measurement; unmarked, so not counted.
                var warmup = Payload.Warmup(_options.PayloadBytes);
                for (int i = 0; i < _options.GrpcWarmup; i++)
                {
                    await publisher.PublishAsync("bench:" + Room, warmup, cancellationToken);
                }

                await publisher.DrainAsync(cancellationToken);
                await Task.Delay(TimeSpan.FromSeconds(_options.Smoke ? 0.1 : 1), cancellationToken);
            }

            long expected = publications * subscribers;
            var measure = Measurement.Start(server.CpuTime);
            _progress.Set(() => Status("publishing", counts.Sum(), expected, measure));
            for (long seq = 0; seq < publications; seq++)
            {
                await publisher.PublishAsync("bench:" + Room, Payload.Create(Stopwatch.GetTimestamp(), seq, _options.PayloadBytes), cancellationToken);
            }

            await publisher.DrainAsync(cancellationToken);
            await WaitForDeliveriesAsync(() => counts.Sum() + Interlocked.Read(ref dropped), expected, cancellationToken);
            var latency = new LatencyHistogram();
            foreach (var histogram in histograms)
            {
                if (histogram is not null)
                {
                    latency.Add(histogram);
                }
            }

            long delivered = counts.Sum();
            return measure.Complete(result, lastDelivery.Max(), latency) with
            {
                Subscribers = subscribers,
                Publications = publications,
                Expected = expected,
                Delivered = delivered,
                Dropped = dropped,
                Lost = Math.Max(0, expected - delivered - dropped),
                Errors = publisher.Errors,
            };
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private async Task<RunResult> IdleAsync(ServerProcess server, ServerKind kind, RunResult result, CancellationToken cancellationToken)
    {
        var protocol = WireProtocol.For(kind);
        int total = _options.IdleConnections;
        // The first tenth warms the server up (JIT, pools, first GC) and sets the baseline; the rest are measured.
        int warm = Math.Max(1, total / 10);
        using var sources = new LoopbackSources(_options.SourcesFor(total));
        var clients = new WsClient[total];
        try
        {
            var measure = Measurement.Start(server.CpuTime);
            await ConnectAsync(clients.AsMemory(0, warm), [server.WebSocket], protocol, sources, WsClient.IdleReceiveBufferSize, cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(_options.Smoke ? 0.2 : 1), cancellationToken);
            long baseline = server.Rss();
            await ConnectAsync(clients.AsMemory(warm), [server.WebSocket], protocol, sources, WsClient.IdleReceiveBufferSize, cancellationToken, offset: warm);
            await Task.Delay(TimeSpan.FromSeconds(_options.Smoke ? 0.2 : 2), cancellationToken);
            long after = server.Rss();
            int open = clients.Count(static c => !c.Closed);
            return measure.Complete(result, Stopwatch.GetTimestamp(), new LatencyHistogram()) with
            {
                Subscribers = total,
                Expected = total,
                Delivered = open,
                Lost = total - open,
                KiBPerConnection = (after - baseline) / 1024.0 / (total - warm),
            };
        }
        finally
        {
            _progress.Set("closing");
            await Parallel.ForEachAsync(clients, Parallelism(CancellationToken.None), static async (c, _) =>
            {
                if (c is not null)
                {
                    await c.DisposeAsync();
                }
            });
        }
    }

    /// <summary>Publishes the warm-up publications, round-robin over <paramref name="channels"/>, and gives their deliveries time to land.</summary>
    private async Task WarmUpAsync(Publisher publisher, string[] channels, CancellationToken cancellationToken)
    {
        if (_options.Warmup == 0)
        {
            return;
        }

        _progress.Set("warming up");
        var payload = Payload.Warmup(_options.PayloadBytes);
        for (int i = 0; i < _options.Warmup; i++)
        {
            await publisher.PublishAsync(channels[i % channels.Length], payload, cancellationToken);
        }

        await publisher.DrainAsync(cancellationToken);
        // Time for the runtime's background recompilation of what the warm-up made hot (tiering waits for
        // quiet, then recompiles); 2 s lets it finish on this 2-core machine.
        await Task.Delay(TimeSpan.FromSeconds(_options.Smoke ? 0.1 : 2), cancellationToken);
    }

    /// <summary>
    /// Opens a socket per slot, slot i to server i mod servers from source address (i + <paramref name="offset"/>) mod
    /// sources, and waits for every handshake.
    /// </summary>
    private async Task ConnectAsync(Memory<WsClient> slots, Uri[] servers, WireProtocol protocol, LoopbackSources sources, int receiveBuffer, CancellationToken cancellationToken, int offset = 0)
    {
        int connected = 0;
        _progress.Set(() => $"connecting {Volatile.Read(ref connected)}/{slots.Length}");
        await Parallel.ForEachAsync(Enumerable.Range(0, slots.Length), Parallelism(cancellationToken), async (i, ct) =>
        {
            var client = new WsClient(protocol, receiveBuffer);
            slots.Span[i] = client;
            await client.ConnectAsync(servers[i % servers.Length], sources.WebSocket((i + offset) % sources.Count), ct);
            Interlocked.Increment(ref connected);
        });
        var all = slots;
        await Until.TrueAsync(() => AllShookHands(all.Span), TimeSpan.FromSeconds(120), "handshakes", cancellationToken);
    }

    private static bool AllShookHands(ReadOnlySpan<WsClient> clients)
    {
        foreach (var client in clients)
        {
            if (client.Handshakes == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Waits until <paramref name="expected"/> deliveries arrived, or none arrived for the stall timeout.</summary>
    private async Task WaitForDeliveriesAsync(Func<long> delivered, long expected, CancellationToken cancellationToken)
    {
        long seen = -1;
        var lastProgress = Stopwatch.StartNew();
        while (true)
        {
            long now = delivered();
            if (now >= expected)
            {
                return;
            }

            if (now != seen)
            {
                seen = now;
                lastProgress.Restart();
            }
            else if (lastProgress.Elapsed > _options.StallTimeout)
            {
                return;  // what has not arrived by now is lost
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    private static string Status(string phase, long delivered, long expected, Measurement measure)
    {
        double seconds = Stopwatch.GetElapsedTime(measure.Started).TotalSeconds;
        return $"{phase}: {delivered:N0}/{expected:N0} delivered, {delivered / Math.Max(seconds, 0.001):N0}/s";
    }

    private static ParallelOptions Parallelism(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken };

    /// <summary>CPU of the server (or the cluster) and of the client, and the clock, from the start of the measured part of a run.</summary>
    private sealed class Measurement
    {
        private readonly Func<TimeSpan> _server;
        private readonly TimeSpan _serverCpu;
        private readonly TimeSpan _clientCpu;

        private Measurement(Func<TimeSpan> serverCpu)
        {
            _server = serverCpu;
            _serverCpu = serverCpu();
            _clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            Started = Stopwatch.GetTimestamp();
        }

        public long Started { get; }

        public static Measurement Start(Func<TimeSpan> serverCpu) => new(serverCpu);

        public RunResult Complete(RunResult result, long lastDelivery, LatencyHistogram latency)
        {
            double seconds = Stopwatch.GetElapsedTime(Started, Math.Max(lastDelivery, Started + 1)).TotalSeconds;
            return result with
            {
                Seconds = seconds,
                DeliveriesPerSecond = latency.Count / seconds,
                P50Ms = latency.Quantile(0.50) / 1000.0,
                P99Ms = latency.Quantile(0.99) / 1000.0,
                MaxMs = latency.Max / 1000.0,
                ServerCpuSeconds = (_server() - _serverCpu).TotalSeconds,
                ServerCpuTotalSeconds = _server().TotalSeconds,
                ClientCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _clientCpu).TotalSeconds,
            };
        }
    }
}
