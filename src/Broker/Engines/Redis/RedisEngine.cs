using System.Buffers.Text;
using System.Security.Cryptography;
using Broker.Engines.Redis.Internal;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Broker.Engines.Redis;

/// <summary>
/// The cluster engine: brokers that share one Redis share channels, numbering, history, idempotency
/// keys and presence (PROTOCOL.md, "Running several brokers"; design and keys in docs/cluster.md).
/// </summary>
/// <remarks>
/// <para>Each publish is one Lua script on the channel's keys (one hash slot): idempotency check, epoch,
/// offset, capped stream, and the PUBLISH of the frame to every node. Each node holds one subscription
/// connection and orders each channel's frames in a <see cref="DeliveryShard"/>: duplicates dropped,
/// a jump in offsets filled from the stream first.</para>
/// <para>Publishes may be pipelined (the caller starts the next before the last completed): the script
/// goes out in call order on the multiplexer's one interactive connection and Redis runs scripts in
/// arrival order, so offsets follow call order (docs/cluster.md, "Publishing: one script").</para>
/// <para>Time: publication times, history TTLs and idempotency windows follow the injected
/// <see cref="TimeProvider"/> (times are passed into the scripts; Redis's own expiry only reclaims
/// memory afterwards). Liveness — the probe, node heartbeats, operation timeouts — runs on real time:
/// it is about the network, not about the broker's clock.</para>
/// </remarks>
public sealed partial class RedisEngine : IEngine, IDeliveryHost
{
    /// <summary>How often the subscription connection is probed: every second, so a stall shows within 3 s.</summary>
    private const int ProbeIntervalMs = 1000;

    /// <summary>No probe back for this long means Redis is unreachable: three missed probes, inside PROTOCOL.md's 5 s.</summary>
    private const int UnhealthyAfterMs = 3000;

    private readonly RedisEngineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DeliveryShard[] _shards;
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _numberingTtlMs;
    private RedisKeys _keys;
    private ConnectionMultiplexer? _redis;
    private IDatabase _db = null!;
    private ISubscriber _subscriber = null!;
    private IEngineHandler? _handler;
    private long _lastProbeMs;
    private volatile bool _healthy;

    // After a subscription connection is restored, catch up on the next two probes: the first proves
    // the connection is back, the second that the resubscriptions sent with it were processed too.
    private int _catchUpsPending;
    private long _lastStallKillMs;
    private Task? _probeLoop;
    private Task? _heartbeatLoop;

    /// <summary>Creates the engine; it connects in <see cref="StartAsync"/>.</summary>
    public RedisEngine(IOptions<RedisEngineOptions> options, TimeProvider time, ILogger<RedisEngine> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _time = time;
        _logger = logger;
        _numberingTtlMs = (long)_options.NumberingTtl.TotalMilliseconds;
        _keys = new RedisKeys(_options.Prefix, NewId());
        // One shard per core, at least 4: enough loops that one channel's gap fill rarely holds up others,
        // few enough that idle loops cost nothing.
        _shards = new DeliveryShard[Math.Max(4, Environment.ProcessorCount)];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new DeliveryShard(this, logger);
        }
    }

    /// <summary>False makes <see cref="DisposeAsync"/> stop like a crashed node: no leaves, no deregistration (tests).</summary>
    internal bool LeaveClusterOnDispose { get; set; } = true;

    /// <inheritdoc/>
    public bool IsHealthy => _healthy && _redis is { IsConnected: true };

    IEngineHandler IDeliveryHost.Handler => _handler!;

    /// <inheritdoc/>
    public async ValueTask StartAsync(IEngineHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
        {
            throw new InvalidOperationException("The engine is already started.");
        }

        var config = ConfigurationOptions.Parse(_options.Configuration);
        int timeoutMs = (int)Math.Ceiling(_options.OperationTimeout.TotalMilliseconds);
        config.AbortOnConnectFail = false;          // start while Redis is down: /readyz says 503 until it is up
        config.BacklogPolicy = BacklogPolicy.FailFast;  // no queueing while disconnected: answer unavailable now
        config.AsyncTimeout = timeoutMs;
        config.SyncTimeout = timeoutMs;
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, 5000);  // a reconnect attempt gives up within 5 s
        config.ConnectRetry = 1;                    // one attempt at start (the default 3 made a start without Redis take 15 s); the retry policy takes over
        config.ReconnectRetryPolicy = new LinearRetry(500);  // retry every 0.5 s: back within a second of Redis
        config.ClientName = $"{_options.Prefix}:{_keys.NodeId}";  // finds our own pub/sub connection to close a stalled one
        config.AllowAdmin = true;                   // CLIENT LIST / CLIENT KILL of that one connection
        var endpoints = string.Join(',', config.EndPoints);

        // One connect timeout in all, the connect's own wait included: a Redis that is not up yet costs the start 5 s,
        // not 10 (ConnectAsync itself may spend the whole timeout retrying a refused connection).
        long connectDeadline = Environment.TickCount64 + config.ConnectTimeout;
        _redis = await ConnectionMultiplexer.ConnectAsync(config).WaitAsync(cancellationToken).ConfigureAwait(false);
        _db = _redis.GetDatabase();
        _subscriber = _redis.GetSubscriber();
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
        _lastProbeMs = Environment.TickCount64 - UnhealthyAfterMs;

        try
        {
            // With AbortOnConnectFail off the multiplexer connects in the background: give it what is left of the
            // connect timeout to come up (a poll: the multiplexer has no awaitable "connected"), then start anyway.
            while (!_redis.IsConnected && Environment.TickCount64 < connectDeadline)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }

            await EnsureNodeChannelSubscribedAsync().ConfigureAwait(false);
            await RegisterNodeAsync().ConfigureAwait(false);
            await WaitForFirstProbeAsync(cancellationToken).ConfigureAwait(false);
            RedisEngineLog.Connected(_logger, endpoints, _keys.NodeId, _keys.Prefix);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            RedisEngineLog.UnreachableAtStart(_logger, endpoints, e);
        }

        _probeLoop = Task.Run(ProbeLoopAsync, CancellationToken.None);
        _heartbeatLoop = Task.Run(HeartbeatLoopAsync, CancellationToken.None);
    }

    /// <inheritdoc/>
    public async ValueTask<PublishResult> PublishAsync(PublishCommand command, CancellationToken cancellationToken)
    {
        if (_handler is null)
        {
            throw new InvalidOperationException("The engine is not started.");
        }

        var now = _time.GetUtcNow();
        var body = PublicationCodec.EncodeBody(command, now);
        var channel = command.Channel;
        bool keyed = command.IdempotencyKey is not null;
        RedisKey[] keys = [_keys.Meta(channel), _keys.Stream(channel), keyed ? _keys.Idempotency(channel, command.IdempotencyKey!) : _keys.Meta(channel)];
        RedisValue[] args =
        [
            now.ToUnixTimeMilliseconds(),
            NewId(),  // used only if the channel has no epoch: cheaper than a second round trip to ask
            Math.Max(0, command.History.Size),
            (long)command.History.Ttl.TotalMilliseconds,
            _numberingTtlMs,
            keyed ? (long)IEngine.IdempotencyWindow.TotalMilliseconds : 0,
            body,
            _keys.PubSubName(channel),
        ];

        var result = (RedisResult[])(await EvaluateAsync(RedisScripts.Publish, keys, args, cancellationToken).ConfigureAwait(false))!;
        var position = new StreamPosition((string)result[0]!, (ulong)(long)result[1]);
        bool duplicate = (long)result[2] == 1;
        if (!duplicate && !((IDeliveryHost)this).IsWatched(channel))
        {
            // Nobody here subscribed, so pub/sub will not bring it back: hand it to the shard ourselves
            // (the contract: the handler gets every publication made on this node). Concurrent
            // publishers may hand them over out of order; the shard orders them from history.
            ShardOf(channel).Enqueue(new DeliveryItem(DeliveryKind.Frame, channel, PublicationCodec.Frame(PublicationCodec.KindPublication, position, body), Local: true));
        }

        return new PublishResult(position, duplicate);
    }

    /// <inheritdoc/>
    public ValueTask<HistoryResult> ReadHistoryAsync(string channel, HistoryQuery query, CancellationToken cancellationToken) =>
        ReadHistoryCoreAsync(channel, query, cancellationToken);

    ValueTask<HistoryResult> IDeliveryHost.ReadHistoryAsync(string channel, HistoryQuery query) =>
        ReadHistoryCoreAsync(channel, query, _stopping.Token);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var loop in new[] { _probeLoop, _heartbeatLoop })
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }
        }

        if (_redis is { } redis)
        {
            if (IsHealthy && LeaveClusterOnDispose)
            {
                await LeaveClusterAsync().ConfigureAwait(false);
            }

            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
            await redis.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            redis.Dispose();
        }

        foreach (var shard in _shards)
        {
            await shard.CompleteAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async ValueTask<HistoryResult> ReadHistoryCoreAsync(string channel, HistoryQuery query, CancellationToken cancellationToken)
    {
        var since = query.Since;
        RedisKey[] keys = [_keys.Meta(channel), _keys.Stream(channel)];
        RedisValue[] args =
        [
            _time.GetUtcNow().ToUnixTimeMilliseconds(),
            NewId(),
            _numberingTtlMs,
            since is null ? 0 : 1,
            since?.Epoch ?? string.Empty,
            (long)(since?.Offset ?? 0),
            query.Limit ?? -1,
        ];

        var result = (RedisResult[])(await EvaluateAsync(RedisScripts.ReadHistory, keys, args, cancellationToken).ConfigureAwait(false))!;
        var epoch = (string)result[0]!;
        var position = new StreamPosition(epoch, (ulong)(long)result[1]);
        int count = (result.Length - 3) / 2;
        var publications = count == 0 ? (IReadOnlyList<Publication>)Array.Empty<Publication>() : new Publication[count];
        for (int i = 0; i < count; i++)
        {
            var offset = (ulong)(long)result[3 + (2 * i)];
            var body = (byte[])result[4 + (2 * i)]!;
            ((Publication[])publications)[i] = PublicationCodec.DecodeBody(channel, new StreamPosition(epoch, offset), body);
        }

        return new HistoryResult(publications, position, Recovered: (long)result[2] == 1);
    }

    /// <summary>Runs a script, turning Redis being unreachable or slow into <see cref="EngineUnavailableException"/>.</summary>
    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args, CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        try
        {
            return await _db.ScriptEvaluateAsync(script, keys, args).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable(e);
        }
    }

    private void ThrowIfUnavailable()
    {
        if (_redis is null)
        {
            throw new InvalidOperationException("The engine is not started.");
        }

        if (!IsHealthy)
        {
            throw new EngineUnavailableException($"Redis is unreachable: no liveness probe came back within {UnhealthyAfterMs} ms.");
        }
    }

    private static EngineUnavailableException Unavailable(Exception e) => new("Redis did not answer: " + e.Message, e);

    /// <summary>A fresh random id (epochs, node ids): 48 bits, 8 URL-safe characters. Collisions matter only per channel or per cluster.</summary>
    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[6];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Gives a presence frame a script returned to the shard when pub/sub will not bring it (see <see cref="PublishAsync"/>).</summary>
    private void DeliverLocally(string channel, RedisResult frame)
    {
        if (!frame.IsNull && !((IDeliveryHost)this).IsWatched(channel))
        {
            ShardOf(channel).Enqueue(new DeliveryItem(DeliveryKind.Frame, channel, (byte[])frame!, Local: true));
        }
    }

    private DeliveryShard ShardOf(string channel) =>
        _shards[(uint)StringComparer.Ordinal.GetHashCode(channel) % (uint)_shards.Length];
}
