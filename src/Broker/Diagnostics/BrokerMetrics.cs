using System.Diagnostics.Metrics;

namespace Broker.Diagnostics;

/// <summary>
/// The broker's instruments, on the meter <see cref="MeterName"/>. One instance per broker, made from
/// <see cref="IMeterFactory"/> so tests can listen to one broker alone. Names and units follow the
/// OpenTelemetry conventions (durations in seconds, counts in <c>{things}</c>). What only needs reading
/// (connections, channels, publications, deliveries …) is observed by <c>Stats.BrokerGauges</c>; what
/// happens is recorded here, never per delivery.
/// </summary>
public sealed class BrokerMetrics
{
    /// <summary>The meter every broker instrument lives on.</summary>
    public const string MeterName = "Broker";

    /// <summary>
    /// Bucket bounds for the latency histograms, in seconds: 100 µs to 10 s. Fan-out within a process takes
    /// tens of microseconds to milliseconds; handler calls milliseconds to seconds.
    /// </summary>
    private static readonly double[] LatencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Bucket bounds for pending bytes: 1 KiB to 16 MiB, by fours.</summary>
    private static readonly long[] PendingBytesBuckets = [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];

    private readonly Counter<long> _dropped;
    private readonly Counter<long> _lagged;
    private readonly Counter<long> _recoveries;
    private readonly Counter<long> _tickets;
    private readonly Counter<long> _closes;
    private readonly Counter<long> _upgradesRefused;
    private readonly Counter<long> _handlerTimeouts;
    private readonly Counter<long> _epochChanges;
    private readonly Counter<long> _engineUnavailable;
    private readonly Counter<long> _nodesUnanswered;
    private readonly Counter<long> _handlerRedeliveries;
    private readonly Counter<long> _handlerRepliesIgnored;
    private readonly Counter<long> _limitsRefused;
    private readonly Histogram<double> _fanOutLatency;
    private readonly Histogram<double> _handlerDuration;
    private readonly Histogram<long> _pendingBytes;
    private readonly TimeProvider _time;
    private long _grpcStreams;

    // Running totals for /stats and the dashboard (which read deltas): one Interlocked beside each
    // instrument call, on paths that already make that call.
    private readonly long[] _dropTotals = new long[Enum.GetValues<DropReason>().Length];
    private readonly long[] _fanOutBuckets = new long[LatencyBuckets.Length + 1];

    // Tags made once: a KeyValuePair per drop reason, so counting a drop allocates nothing.
    private readonly KeyValuePair<string, object?>[] _reasonTags;
    private readonly KeyValuePair<string, object?>[] _ticketTags;
    private readonly KeyValuePair<string, object?> _recovered = new("result", "succeeded");
    private readonly KeyValuePair<string, object?> _notRecovered = new("result", "failed");
    private readonly KeyValuePair<string, object?>[] _closeTags;
    private readonly KeyValuePair<string, object?>[] _limitTags;
    private readonly long[] _limitTotals = new long[Enum.GetValues<LimitKind>().Length];

    /// <summary>The close codes the broker sends (PROTOCOL.md, and the WebSocket layer's 1002 and 1007), each with its tag made once.</summary>
    private static readonly int[] KnownCloseCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 4001, 4002, 4003];

    /// <summary>Creates the instruments.</summary>
    public BrokerMetrics(IMeterFactory meterFactory, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _time = time ?? TimeProvider.System;
        Meter = meterFactory.Create(MeterName);
        _dropped = Meter.CreateCounter<long>("broker.messages.dropped", "{message}", "Messages that never reached a subscriber, by reason.");
        _lagged = Meter.CreateCounter<long>("broker.lagged", "{notice}", "'lagged' notices sent: a subscriber was told it missed publications.");
        _recoveries = Meter.CreateCounter<long>("broker.recoveries", "{subscription}", "Subscribes and resumes with a 'since', by whether the missed publications were replayed.");
        _tickets = Meter.CreateCounter<long>("broker.tickets", "{ticket}", "WebSocket tickets by outcome: issued, used, expired, replayed (unknown or already used), wrong_ip, refused (not issued).");
        _closes = Meter.CreateCounter<long>("broker.websocket.closes", "{connection}", "WebSocket connections closed, by close code.");
        _upgradesRefused = Meter.CreateCounter<long>("broker.websocket.upgrades.refused", "{request}", "WebSocket upgrades refused, by reason.");
        _handlerTimeouts = Meter.CreateCounter<long>("broker.handler.timeouts", "{call}", "Browser 'send' calls whose handler did not reply in time.");
        _epochChanges = Meter.CreateCounter<long>("broker.epoch_changes", "{channel}", "Subscribed channels whose history the engine lost (a new epoch): their subscribers were told with an unsolicited 'subscribed'.");
        _engineUnavailable = Meter.CreateCounter<long>("broker.engine.unavailable", "{request}", "Requests answered 'unavailable' because the engine's backend (Redis) was unreachable, by operation (publish, subscribe, history, presence, disconnect, handlers; hello, session, tickets and session_sweep for the session and ticket stores).");
        _nodesUnanswered = Meter.CreateCounter<long>("broker.cluster.unanswered", "{node}", "Nodes that did not answer a node-to-node request in time (their part is not counted), by operation (disconnect, handlers).");
        _handlerRedeliveries = Meter.CreateCounter<long>("broker.handler.redeliveries", "{call}", "Browser 'send' calls given to a second handler because the first one's stream or node ended with the call in flight.");
        _handlerRepliesIgnored = Meter.CreateCounter<long>("broker.handler.replies.ignored", "{reply}", "Handler replies that matched no call the handler held (late after the deadline, a second reply, or an id never given to it): ignored.");
        _limitsRefused = Meter.CreateCounter<long>("broker.limits.refused", "{request}", "Requests refused by a limit (Limits and hardening in README.md), by limit: connections, connections_per_ip, failed_hellos, queued_bytes, sessions, tickets, grpc_subscriptions, handler_events, handler_registrations.");
        _fanOutLatency = Meter.CreateHistogram<double>("broker.fanout.latency", "s", "From publish to written on a subscriber's connection; sampled once per write wake-up, not per delivery.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _handlerDuration = Meter.CreateHistogram<double>("broker.handler.duration", "s", "From a browser's 'send' to its handler's reply.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _pendingBytes = Meter.CreateHistogram<long>("broker.connection.pending_bytes", "By", "Bytes queued for a connection, sampled when its writer wakes up.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = PendingBytesBuckets });

        var reasons = Enum.GetValues<DropReason>();
        _reasonTags = new KeyValuePair<string, object?>[reasons.Length];
        foreach (var reason in reasons)
        {
            _reasonTags[(int)reason] = new("reason", reason switch
            {
                DropReason.Overflow => "overflow",
                DropReason.SlowConsumer => "slow_consumer",
                DropReason.Closed => "closed",
                _ => "shutdown",
            });
        }

        var outcomes = Enum.GetValues<TicketOutcome>();
        _ticketTags = new KeyValuePair<string, object?>[outcomes.Length];
        foreach (var outcome in outcomes)
        {
            _ticketTags[(int)outcome] = new("outcome", outcome switch
            {
                TicketOutcome.Issued => "issued",
                TicketOutcome.Used => "used",
                TicketOutcome.Expired => "expired",
                TicketOutcome.Replayed => "replayed",
                TicketOutcome.WrongIp => "wrong_ip",
                _ => "refused",
            });
        }

        var limits = Enum.GetValues<LimitKind>();
        _limitTags = new KeyValuePair<string, object?>[limits.Length];
        foreach (var limit in limits)
        {
            _limitTags[(int)limit] = new("limit", limit switch
            {
                LimitKind.Connections => "connections",
                LimitKind.ConnectionsPerIp => "connections_per_ip",
                LimitKind.FailedHellos => "failed_hellos",
                LimitKind.QueuedBytes => "queued_bytes",
                LimitKind.Tickets => "tickets",
                LimitKind.GrpcSubscriptions => "grpc_subscriptions",
                LimitKind.HandlerEvents => "handler_events",
                LimitKind.HandlerRegistrations => "handler_registrations",
                _ => "sessions",
            });
        }

        _closeTags = new KeyValuePair<string, object?>[KnownCloseCodes.Length];
        for (int i = 0; i < KnownCloseCodes.Length; i++)
        {
            _closeTags[i] = new("code", KnownCloseCodes[i]);
        }
    }

    /// <summary>The meter, for <c>Stats.BrokerGauges</c>' observable instruments.</summary>
    internal Meter Meter { get; }

    /// <summary>gRPC streams (Subscribe, Handle, PublishStream) now open.</summary>
    public long GrpcStreams => Interlocked.Read(ref _grpcStreams);

    /// <summary>Counts <paramref name="count"/> messages dropped for <paramref name="reason"/>.</summary>
    public void RecordDropped(DropReason reason, long count = 1)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _dropTotals[(int)reason], count);
            _dropped.Add(count, _reasonTags[(int)reason]);
        }
    }

    /// <summary>Counts a subscribed channel whose epoch changed under its subscribers.</summary>
    public void RecordEpochChange() => _epochChanges.Add(1);

    /// <summary>Counts a request answered <c>unavailable</c> for an unreachable engine or session store; <paramref name="operation"/> is a constant (publish, subscribe, history, presence, disconnect, handlers, hello, session, tickets, session_sweep).</summary>
    public void RecordEngineUnavailable(string operation) => _engineUnavailable.Add(1, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>Counts a node that did not answer a node-to-node request in time; <paramref name="operation"/> is a constant.</summary>
    public void RecordNodeUnanswered(string operation) => _nodesUnanswered.Add(1, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>Counts a <c>send</c> call redelivered to another handler of its group.</summary>
    public void RecordHandlerRedelivery() => _handlerRedeliveries.Add(1);

    /// <summary>Counts a handler reply that matched no call its handler held, and was ignored.</summary>
    public void RecordHandlerReplyIgnored() => _handlerRepliesIgnored.Add(1);

    /// <summary>Counts one <c>lagged</c> notice sent.</summary>
    public void RecordLagged() => _lagged.Add(1);

    /// <summary>Counts a subscribe or resume that asked for a <c>since</c>, by whether it was recovered.</summary>
    public void RecordRecovery(bool recovered) => _recoveries.Add(1, recovered ? _recovered : _notRecovered);

    /// <summary>Counts one ticket event.</summary>
    public void RecordTicket(TicketOutcome outcome) => _tickets.Add(1, _ticketTags[(int)outcome]);

    /// <summary>Counts a WebSocket connection closed with <paramref name="code"/>.</summary>
    public void RecordClose(int code)
    {
        int index = Array.IndexOf(KnownCloseCodes, code);
        _closes.Add(1, index >= 0 ? _closeTags[index] : new KeyValuePair<string, object?>("code", code));
    }

    /// <summary>Counts one request refused by <paramref name="limit"/>; allocation-free (the tag is made once).</summary>
    public void RecordLimitRefused(LimitKind limit)
    {
        Interlocked.Increment(ref _limitTotals[(int)limit]);
        _limitsRefused.Add(1, _limitTags[(int)limit]);
    }

    /// <summary>Requests refused by <paramref name="limit"/> since start.</summary>
    public long LimitRefusedTotal(LimitKind limit) => Interlocked.Read(ref _limitTotals[(int)limit]);

    /// <summary>Counts a refused WebSocket upgrade; <paramref name="reason"/> is one of a few constant strings.</summary>
    public void RecordUpgradeRefused(string reason) => _upgradesRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Records one handler call's duration, and whether it timed out.</summary>
    public void RecordHandlerCall(TimeSpan duration, bool timedOut)
    {
        _handlerDuration.Record(duration.TotalSeconds);
        if (timedOut)
        {
            _handlerTimeouts.Add(1);
        }
    }

    /// <summary>
    /// A write sample: the time from a publication's publish (<paramref name="publishedAt"/>) until now, and
    /// the bytes the connection still had queued. Called at most once per writer wake-up (see the callers).
    /// </summary>
    public void RecordWriteSample(DateTimeOffset publishedAt, long pendingBytes)
    {
        double seconds = Math.Max(0, (_time.GetUtcNow() - publishedAt).TotalSeconds);
        _fanOutLatency.Record(seconds);
        int bucket = Array.BinarySearch(LatencyBuckets, seconds);
        Interlocked.Increment(ref _fanOutBuckets[bucket >= 0 ? bucket : ~bucket]);

        _pendingBytes.Record(pendingBytes);
    }

    /// <summary>Messages dropped for <paramref name="reason"/> since start.</summary>
    public long DroppedTotal(DropReason reason) => Interlocked.Read(ref _dropTotals[(int)reason]);

    /// <summary>
    /// Copies the fan-out latency samples per bucket since start into <paramref name="counts"/> (length
    /// <see cref="FanOutBucketCount"/>; the last bucket is above 10 s). For percentiles over an interval.
    /// </summary>
    public void CopyFanOutBuckets(Span<long> counts)
    {
        for (int i = 0; i < _fanOutBuckets.Length && i < counts.Length; i++)
        {
            counts[i] = Interlocked.Read(ref _fanOutBuckets[i]);
        }
    }

    /// <summary>How many fan-out latency buckets <see cref="CopyFanOutBuckets"/> fills.</summary>
    public static int FanOutBucketCount => LatencyBuckets.Length + 1;

    /// <summary>The upper bound of fan-out bucket <paramref name="index"/>, in seconds (the last is open: reported as 10 s).</summary>
    public static double FanOutBucketBound(int index) => LatencyBuckets[Math.Min(index, LatencyBuckets.Length - 1)];

    /// <summary>A gRPC stream opened; pair with <see cref="GrpcStreamEnded"/>.</summary>
    public void GrpcStreamStarted() => Interlocked.Increment(ref _grpcStreams);

    /// <summary>A gRPC stream ended.</summary>
    public void GrpcStreamEnded() => Interlocked.Decrement(ref _grpcStreams);
}

/// <summary>What happened to a ticket; the <c>outcome</c> tag of <c>broker.tickets</c>.</summary>
public enum TicketOutcome
{
    /// <summary>Issued.</summary>
    Issued,

    /// <summary>Presented and accepted.</summary>
    Used,

    /// <summary>Presented after its expiry, or swept unused.</summary>
    Expired,

    /// <summary>Presented but unknown: already used (a replay), never issued, or swept.</summary>
    Replayed,

    /// <summary>Presented from an address other than the one it was bound to.</summary>
    WrongIp,

    /// <summary>Not issued: an unknown session or a bad request.</summary>
    Refused,
}
