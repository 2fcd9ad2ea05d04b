using System.Diagnostics;
using System.Text.Json;

namespace Broker.LoadTest.Soak;

/// <summary>
/// The soak against one running broker: connect every slot, then for the duration publish from random sockets and
/// churn random sockets (abort, close, or either followed by a resume), sampling RSS and <c>/stats</c> throughout;
/// then quiesce (every ack in, every subscriber that stayed caught up), close everything, and wait for <c>/stats</c> to
/// say 0 connections and 0 subscriptions. Every random choice comes from the seed; what timing makes of them does not.
/// </summary>
internal sealed class SoakScenario
{
    private const string Broadcast = "soak:all";

    /// <summary>Share of sockets on <see cref="Broadcast"/>, and of publications to it: one channel with a wide fan-out.</summary>
    private const double BroadcastShare = 0.1;

    // Connects in flight at once: enough to ramp 5,000 sockets in seconds, few enough not to look like a SYN flood.
    private const int ConnectParallelism = 64;

    // The publish and churn clock: rates are spread over ticks of this length.
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);

    private readonly SoakOptions _options;
    private readonly ServerProcess _server;
    private readonly Action<string> _progress;
    private readonly SoakCounters _counters = new();
    private readonly AckLedger _acks = new();
    private readonly RssCurve _curve = new();
    private readonly Random _random;
    private readonly Uri _http;
    private readonly Stopwatch _clock = new();

    public SoakScenario(SoakOptions options, ServerProcess server, Action<string> progress)
    {
        _options = options;
        _server = server;
        _progress = progress;
        _random = new Random(options.Seed);
        _http = new UriBuilder(server.WebSocket) { Scheme = "http" }.Uri;
    }

    public async Task<SoakResult> RunAsync(CancellationToken cancellationToken)
    {
        using var sources = new LoopbackSources(_options.Sources);
        using var stats = new HttpClient { BaseAddress = _http, Timeout = TimeSpan.FromSeconds(10) };
        var slots = new SoakSlot[_options.Sockets];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = new SoakSlot(i, i % sources.Count, (SoakAuth)_random.Next(3));
        }

        _clock.Start();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = SampleAsync(stats, stopSampling.Token);
        try
        {
            // Ramp: every slot connects, with channels chosen here, in slot order, so the seed alone decides them.
            var firstChannels = slots.Select(_ => ChooseChannels()).ToArray();
            int connected = 0;
            _progress($"connecting {_options.Sockets} sockets");
            await Parallel.ForEachAsync(slots, new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism, CancellationToken = cancellationToken }, async (slot, ct) =>
            {
                await ConnectAsync(slot, sources, firstChannels[slot.Index], [], ct);
                if (Interlocked.Increment(ref connected) % 500 == 0)
                {
                    _progress($"connected {connected}/{_options.Sockets}");
                }
            });
            double ramped = _clock.Elapsed.TotalSeconds;

            var churnEnd = await ChurnAsync(slots, sources, cancellationToken);
            var (stayers, caughtUp) = await QuiesceAsync(slots, cancellationToken);

            _progress("closing every socket");
            int closeIndex = 0;
            await Parallel.ForEachAsync(slots, new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism, CancellationToken = cancellationToken }, async (slot, _) =>
            {
                // Half without a close frame, half with the handshake: both must leave nothing behind.
                if (slot.Socket is { } socket)
                {
                    slot.Socket = null;
                    await (Interlocked.Increment(ref closeIndex) % 2 == 0 ? socket.AbortAsync() : socket.CloseAsync());
                }
            });
            double closedAt = _clock.Elapsed.TotalSeconds;

            var (zero, final) = await WaitForZeroAsync(stats, cancellationToken);
            double zeroAt = _clock.Elapsed.TotalSeconds;
            // Two more samples after the close: the curve shows what the broker gives back.
            await Task.Delay(_options.SampleInterval * 2, cancellationToken);
            await stopSampling.CancelAsync();
            await sampler.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            return Judge(slots, stayers, caughtUp, ramped, churnEnd, closedAt, zero ? zeroAt - closedAt : null, final);
        }
        finally
        {
            await stopSampling.CancelAsync();
            await sampler.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var slot in slots)
            {
                if (slot.Socket is { } socket)
                {
                    await socket.FailAsync();
                }
            }
        }
    }

    public RssCurve Curve => _curve;

    /// <summary>Publishes and churns for the duration; returns the soak time (seconds) at which it stopped.</summary>
    private async Task<double> ChurnAsync(SoakSlot[] slots, LoopbackSources sources, CancellationToken cancellationToken)
    {
        var churning = new List<Task>();
        double publishDebt = 0, churnDebt = 0;
        long sequence = 0;
        long ticks = 0;
        var start = _clock.Elapsed;
        using var timer = new PeriodicTimer(Tick);
        var last = _clock.Elapsed;
        while (_clock.Elapsed - start < _options.Duration && await timer.WaitForNextTickAsync(cancellationToken))
        {
            var now = _clock.Elapsed;
            double seconds = (now - last).TotalSeconds;
            last = now;
            publishDebt += _options.PublishPerSecond * seconds;
            churnDebt += _options.ChurnPerSecond * seconds;
            for (; publishDebt >= 1; publishDebt--)
            {
                // A few draws for a live socket; a tick that finds none publishes less (reported as sent, not as owed).
                var slot = slots[_random.Next(slots.Length)];
                var channel = ChoosePublishChannel();
                if (!slot.Busy && slot.Socket is { IsLive: true } socket)
                {
                    socket.TryPublish(channel, sequence++, _options.PayloadBytes);
                }
            }

            for (; churnDebt >= 1; churnDebt--)
            {
                var slot = slots[_random.Next(slots.Length)];
                var ending = (SoakEnding)_random.Next(4);
                var channels = ChooseChannels();
                if (!slot.Busy)
                {
                    slot.Busy = true;
                    churning.Add(ChurnOneAsync(slot, sources, ending, channels, cancellationToken));
                }
            }

            // A slot whose socket failed to connect, or that the broker closed, connects afresh (looked for once a second).
            if (++ticks % 20 == 0)
            {
                foreach (var slot in slots)
                {
                    if (!slot.Busy && slot.Socket is not { IsLive: true } && slot.Socket?.Completion.IsCompleted != false)
                    {
                        slot.Busy = true;
                        churning.Add(ReconnectAsync(slot, sources, ChooseChannels(), cancellationToken));
                    }
                }
            }

            churning.RemoveAll(static t => t.IsCompleted);
            _progress($"churning {(now - start).TotalSeconds:0}/{_options.Duration.TotalSeconds:0} s: {_counters.Connects:N0} connects, {_acks.Count:N0} acks, {Volatile.Read(ref _counters.Recovered):N0} resumed");
        }

        double end = _clock.Elapsed.TotalSeconds;
        _progress("waiting for the churn in flight");
        await Task.WhenAll(churning).WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
        return end;
    }

    private async Task ChurnOneAsync(SoakSlot slot, LoopbackSources sources, SoakEnding ending, string[] channels, CancellationToken cancellationToken)
    {
        try
        {
            var old = slot.Socket!;
            slot.Socket = null;
            bool abort = ending is SoakEnding.Abort or SoakEnding.AbortAndResume;
            await (abort ? old.AbortAsync() : old.CloseAsync());
            bool resume = ending is SoakEnding.AbortAndResume or SoakEnding.CloseAndResume;
            var carried = resume ? old.Live() : [];
            Interlocked.Add(ref _counters.ResumesAsked, carried.Length);
            await ConnectAsync(slot, sources, resume ? [] : channels, carried, cancellationToken);
        }
        finally
        {
            slot.Busy = false;
        }
    }

    private async Task ReconnectAsync(SoakSlot slot, LoopbackSources sources, string[] channels, CancellationToken cancellationToken)
    {
        try
        {
            if (slot.Socket is { } dead)
            {
                slot.Socket = null;
                await dead.FailAsync();
            }

            await ConnectAsync(slot, sources, channels, [], cancellationToken);
        }
        finally
        {
            slot.Busy = false;
        }
    }

    /// <summary>One socket for the slot: its session (cookie slots) or ticket first, then upgrade, hello, subscribes.</summary>
    private async Task ConnectAsync(SoakSlot slot, LoopbackSources sources, string[] channels, SoakSubscription[] resume, CancellationToken cancellationToken)
    {
        var socket = new SoakSocket(_counters, _acks, slot.History);
        try
        {
            var http = sources.Http(slot.Source);
            string? cookie = null, ticket = null;
            if (slot.Auth != SoakAuth.Anonymous)
            {
                slot.Cookie ??= await NewSessionAsync(http, cancellationToken);
            }

            if (slot.Auth == SoakAuth.Cookie)
            {
                cookie = slot.Cookie;
            }
            else if (slot.Auth == SoakAuth.Ticket)
            {
                ticket = await TicketAsync(http, slot.Cookie!, cancellationToken);
            }

            await socket.ConnectAsync(_server.WebSocket, sources.WebSocket(slot.Source), cookie, ticket, resume, channels, cancellationToken);
            slot.Socket = socket;
            Interlocked.Increment(ref _counters.Connects);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _counters.ConnectFailures);
            _counters.Sample($"connect ({slot.Auth}, {(resume.Length > 0 ? "resume" : "fresh")}) failed: {ex.GetType().Name}: {ex.Message}");
            await socket.FailAsync();
        }
    }

    private async Task<string> NewSessionAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(new Uri(_http, "/session"), null, cancellationToken);
        response.EnsureSuccessStatusCode();
        // Only name=value of each Set-Cookie goes back, as a browser sends it.
        return string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(static c => c.Split(';', 2)[0]));
    }

    private async Task<string> TicketAsync(HttpClient http, string cookie, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_http, "/tickets"));
        request.Headers.Add("Cookie", cookie);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.GetProperty("ticket").GetString()!;
    }

    /// <summary>
    /// The end of the churn: every publish answered, then every subscription still live is owed every acknowledged
    /// publication of its channel; waits until each has reached its channel's top or deliveries stall.
    /// </summary>
    private async Task<(int Stayers, bool CaughtUp)> QuiesceAsync(SoakSlot[] slots, CancellationToken cancellationToken)
    {
        _progress("waiting for the last acks");
        try
        {
            await Until.TrueAsync(() => slots.Sum(static s => s.Socket?.PendingAcks ?? 0) == 0, TimeSpan.FromSeconds(30), "the last acks", cancellationToken);
        }
        catch (TimeoutException ex)
        {
            _counters.Sample(ex.Message);
        }

        var stayers = new List<SoakSubscription>();
        foreach (var slot in slots)
        {
            if (slot.Socket is { IsLive: true } socket)
            {
                foreach (var subscription in socket.Live())
                {
                    subscription.StayedToEnd = true;
                    stayers.Add(subscription);
                }
            }
        }

        var tops = stayers.Select(s => _acks.Top(s.Channel, s.Epoch)).ToArray();
        long Behind()
        {
            long behind = 0;
            for (int i = 0; i < stayers.Count; i++)
            {
                behind += Math.Max(0, tops[i] - stayers[i].Last);
            }

            return behind;
        }

        long lastBehind = long.MaxValue;
        var progress = Stopwatch.StartNew();
        while (true)
        {
            long behind = Behind();
            _progress($"catching up: {behind:N0} publications behind over {stayers.Count:N0} subscriptions");
            if (behind == 0)
            {
                return (stayers.Count, true);
            }

            if (behind < lastBehind)
            {
                lastBehind = behind;
                progress.Restart();
            }
            else if (progress.Elapsed > _options.StallTimeout)
            {
                return (stayers.Count, false);  // what has not arrived by now is judged lost (or lagged)
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Polls <c>/stats</c> until it says 0 connections and 0 subscriptions, or the deadline passes.</summary>
    private async Task<(bool Zero, BrokerStats Final)> WaitForZeroAsync(HttpClient stats, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var now = await BrokerStats.ReadAsync(stats, cancellationToken);
            _progress($"/stats: {now.Connections} connections, {now.Subscriptions} subscriptions");
            if (now.Connections == 0 && now.Subscriptions == 0)
            {
                return (true, now);
            }

            if (deadline.Elapsed > _options.StatsDeadline)
            {
                return (false, now);
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task SampleAsync(HttpClient stats, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.SampleInterval);
        do
        {
            try
            {
                long rss = _server.Rss();
                var now = await BrokerStats.ReadAsync(stats, cancellationToken);
                _curve.Add(new RssSample(_clock.Elapsed.TotalSeconds, rss, now.Connections, now.Subscriptions, now.Publications, now.Deliveries));
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                _counters.Sample("a sample failed: " + ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    private SoakResult Judge(SoakSlot[] slots, int stayers, bool caughtUp, double ramped, double churnEnd, double closedAt, double? secondsToZero, BrokerStats final)
    {
        long lost = 0, missed = 0, delivered = 0, duplicates = 0, laggedNotices = 0, laggedOffsets = 0, subscriptions = 0, resumed = 0;
        var lostExamples = new List<string>();
        foreach (var slot in slots)
        {
            foreach (var subscription in slot.History)
            {
                var (l, m) = subscription.Judge(_acks, _acks.Top(subscription.Channel, subscription.Epoch));
                if (l > 0 && lostExamples.Count < 5)
                {
                    lostExamples.Add($"slot {slot.Index} ({slot.Auth}) {subscription.Channel} from {subscription.Start}: gaps {string.Join(", ", subscription.Gaps.Take(3).Select(static g => $"{g.From}-{g.To}"))}, resumed {subscription.Resumes}x, stayed {subscription.StayedToEnd}");
                }

                lost += l;
                missed += m;
                subscriptions++;
                delivered += subscription.Delivered;
                duplicates += subscription.Duplicates;
                laggedNotices += subscription.LaggedNotices;
                laggedOffsets += subscription.LaggedOffsets;
                resumed += subscription.Resumes > 0 ? 1 : 0;
            }
        }

        var verdict = _curve.Judge(_options.RssWarmup.TotalSeconds, churnEnd, _options.RssWindow.TotalSeconds, _options.RssMaxSlopeMiBPerMinute);
        return new SoakResult
        {
            Options = _options,
            RampSeconds = ramped,
            ChurnEndSeconds = churnEnd,
            ClosedSeconds = closedAt,
            Connects = _counters.Connects,
            ConnectFailures = _counters.ConnectFailures,
            Aborts = _counters.Aborts,
            Closes = _counters.Closes,
            ResumesAsked = _counters.ResumesAsked,
            Recovered = _counters.Recovered,
            NotRecovered = _counters.NotRecovered,
            PublishesSent = _counters.PublishesSent,
            Acknowledged = _acks.Count,
            Unacknowledged = _counters.Unacknowledged,
            Subscriptions = subscriptions,
            SubscriptionsResumed = resumed,
            Stayers = stayers,
            CaughtUp = caughtUp,
            Delivered = delivered,
            Duplicates = duplicates,
            LaggedNotices = laggedNotices,
            LaggedOffsets = laggedOffsets,
            Lost = lost,
            MissedUnacknowledged = missed,
            LostExamples = lostExamples,
            UnexpectedCloses = _counters.UnexpectedCloses,
            UnexpectedPublications = _counters.UnexpectedPublications,
            ErrorFrames = _counters.Errors.ToDictionary(),
            PingsAnswered = _counters.PingsAnswered,
            StatsSecondsToZero = secondsToZero,
            FinalConnections = final.Connections,
            FinalSubscriptions = final.Subscriptions,
            Rss = verdict,
            RssAtWindowStartMiB = RssAt(Math.Max(_options.RssWarmup.TotalSeconds, churnEnd - _options.RssWindow.TotalSeconds)),
            RssAtChurnEndMiB = RssAt(churnEnd),
            RssPeakMiB = _server.PeakRss() / 1048576.0,
            BrokerErrors = _server.ErrorLines(),
            Notes = [.. _counters.Samples],
        };
    }

    private double RssAt(double seconds)
    {
        var samples = _curve.Samples;
        var nearest = samples.Count == 0 ? default : samples.MinBy(s => Math.Abs(s.Seconds - seconds));
        return nearest.RssBytes / 1048576.0;
    }

    /// <summary>A fresh socket's channels: one to three rooms, skewed so a few are hot, and the broadcast channel for a tenth.</summary>
    private string[] ChooseChannels()
    {
        var channels = new HashSet<string>(StringComparer.Ordinal);
        if (_random.NextDouble() < BroadcastShare)
        {
            channels.Add(Broadcast);
        }

        int rooms = 1 + _random.Next(3);
        for (int i = 0; i < rooms; i++)
        {
            channels.Add(Room());
        }

        return [.. channels];
    }

    private string ChoosePublishChannel() => _random.NextDouble() < BroadcastShare ? Broadcast : Room();

    // u² over [0, 1): room 0 gets a tenth of the picks, the last ones a few thousandths: hot rooms and cold ones.
    private string Room()
    {
        double u = _random.NextDouble();
        return "soak:room." + ((int)(_options.Rooms * u * u)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
