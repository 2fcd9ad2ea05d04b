using Broker.Core;
using Broker.Diagnostics;
using Broker.Lifecycle;
using Broker.Sessions;

namespace Broker.Stats;

/// <summary>
/// Samples the broker's totals once a second and keeps the last few samples, so <c>/stats</c> and the
/// dashboard report rates (publications, deliveries, drops per second) as counter deltas over a sliding
/// window, and the p99 fan-out latency of that window.
/// </summary>
public sealed class StatsSampler : IDisposable
{
    /// <summary>How often a sample is taken.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Rates are computed over up to this many intervals: two seconds smooth a tick that came late without hiding a change.</summary>
    private const int WindowIntervals = 2;

    private readonly Hub _hub;
    private readonly BrokerMetrics _metrics;
    private readonly ConnectionRegistry _connections;
    private readonly ISessionStore _sessions;
    private readonly DrainState _drain;
    private readonly NodeIdentity _node;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Sample[] _ring = new Sample[WindowIntervals + 1];
    private readonly long _started;
    private int _count;
    private int _next;
    private ITimer? _timer;

    /// <summary>Creates the sampler; <see cref="Start"/> begins sampling.</summary>
    public StatsSampler(Hub hub, BrokerMetrics metrics, ConnectionRegistry connections, ISessionStore sessions, DrainState drain, NodeIdentity node, TimeProvider time)
    {
        _hub = hub;
        _metrics = metrics;
        _connections = connections;
        _sessions = sessions;
        _drain = drain;
        _node = node;
        _time = time;
        _started = time.GetTimestamp();
    }

    /// <summary>Raised after each sample with the new snapshot (on the timer's thread).</summary>
    public event Action<StatsSnapshot>? Sampled;

    /// <summary>Starts sampling every <see cref="Interval"/>.</summary>
    public void Start()
    {
        TakeSample();
        _timer ??= _time.CreateTimer(static s => ((StatsSampler)s!).OnTick(), this, Interval, Interval);
    }

    /// <summary>The current snapshot: counts read now, rates over the sampled window.</summary>
    public StatsSnapshot Current()
    {
        var now = Read();
        Sample oldest;
        lock (_gate)
        {
            oldest = _count == 0 ? now : _ring[(_next - _count + _ring.Length) % _ring.Length];
        }

        double seconds = (now.Timestamp - oldest.Timestamp) / (double)_time.TimestampFrequency;

        double Rate(long later, long earlier) => seconds > 0 ? (later - earlier) / seconds : 0;
        return new StatsSnapshot(
            Node: _node.Name,
            EngineNode: _node.EngineNodeId,
            Time: _time.GetUtcNow(),
            UptimeSeconds: _time.GetElapsedTime(_started).TotalSeconds,
            Draining: _drain.IsDraining,
            EngineHealthy: _hub.Engine.IsHealthy,
            WebSocketConnections: _connections.Count,
            GrpcStreams: _metrics.GrpcStreams,
            Sessions: (int)(_sessions.Count ?? -1),
            Channels: _hub.ChannelCount,
            Subscriptions: _hub.SubscriptionCount,
            Publications: now.Publications,
            PublicationsPerSecond: Rate(now.Publications, oldest.Publications),
            Deliveries: now.Deliveries,
            DeliveriesPerSecond: Rate(now.Deliveries, oldest.Deliveries),
            Drops: now.Drops,
            DropsPerSecond: Rate(now.Drops, oldest.Drops),
            DropsOverflow: _metrics.DroppedTotal(DropReason.Overflow),
            DropsSlowConsumer: _metrics.DroppedTotal(DropReason.SlowConsumer),
            DropsClosed: _metrics.DroppedTotal(DropReason.Closed),
            DropsShutdown: _metrics.DroppedTotal(DropReason.Shutdown),
            MaxPendingBytes: _connections.MaxPendingBytes(),
            FanOutP99Ms: P99Milliseconds(now.FanOut, oldest.FanOut));
    }

    /// <inheritdoc/>
    public void Dispose() => _timer?.Dispose();

    private void OnTick()
    {
        TakeSample();
        Sampled?.Invoke(Current());
    }

    private void TakeSample()
    {
        var sample = Read();
        lock (_gate)
        {
            _ring[_next] = sample;
            _next = (_next + 1) % _ring.Length;
            _count = Math.Min(_count + 1, _ring.Length);
        }
    }

    private Sample Read()
    {
        var fanOut = new long[BrokerMetrics.FanOutBucketCount];
        _metrics.CopyFanOutBuckets(fanOut);
        long drops = 0;
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            drops += _metrics.DroppedTotal(reason);
        }

        return new Sample(_time.GetTimestamp(), _hub.PublicationCount, _hub.DeliveryCount, drops, fanOut);
    }

    /// <summary>The bucket bound below which 99% of the window's fan-out samples fell; 0 with no samples.</summary>
    private static double P99Milliseconds(long[] later, long[] earlier)
    {
        long total = 0;
        for (int i = 0; i < later.Length; i++)
        {
            total += later[i] - earlier[i];
        }

        if (total == 0)
        {
            return 0;
        }

        long rank = (long)Math.Ceiling(total * 0.99);
        long seen = 0;
        for (int i = 0; i < later.Length; i++)
        {
            seen += later[i] - earlier[i];
            if (seen >= rank)
            {
                return BrokerMetrics.FanOutBucketBound(i) * 1000;
            }
        }

        return BrokerMetrics.FanOutBucketBound(later.Length - 1) * 1000;
    }

    private readonly record struct Sample(long Timestamp, long Publications, long Deliveries, long Drops, long[] FanOut);
}
