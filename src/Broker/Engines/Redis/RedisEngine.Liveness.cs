using Broker.Engines.Redis.Internal;
using StackExchange.Redis;

namespace Broker.Engines.Redis;

/// <summary>
/// Health: every second the node publishes a probe to its own node channel and listens for it on its
/// subscription connection. The round trip proves both connections and Redis itself work; three
/// missed probes make the engine unhealthy (a stopped or unreachable Redis, or a pub/sub connection
/// that died without a TCP reset). When probes come back, every channel catches up from history.
/// </summary>
public sealed partial class RedisEngine
{

    private async Task WaitForFirstProbeAsync(CancellationToken cancellationToken)
    {
        // 5 s, as long as a connect attempt may take: a busy machine may need it to see the first probe.
        long deadline = Environment.TickCount64 + 5000;
        while (!_healthy && Environment.TickCount64 < deadline)
        {
            await _subscriber.PublishAsync(_keys.NodeChannel(_keys.NodeId), ProbeFrame).ConfigureAwait(false);
            // A poll, not a signal: it runs once at start, for at most 5 s.
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnProbe()
    {
        Volatile.Write(ref _lastProbeMs, Environment.TickCount64);
        bool wasHealthy = _healthy;
        _healthy = true;
        if (!wasHealthy || TryTakePendingCatchUp())
        {
            if (!wasHealthy && _logger.IsEnabled(LogLevel.Information))
            {
                int interests = CountInterests();
                RedisEngineLog.Healthy(_logger, interests);
            }

            foreach (var shard in _shards)
            {
                shard.CatchUpAll();
            }
        }
    }

    private bool TryTakePendingCatchUp()
    {
        while (true)
        {
            int pending = Volatile.Read(ref _catchUpsPending);
            if (pending == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _catchUpsPending, pending - 1, pending) == pending)
            {
                return true;
            }
        }
    }

    private async Task ProbeLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProbeIntervalMs, token).ConfigureAwait(false);
                await EnsureNodeChannelSubscribedAsync().ConfigureAwait(false);
                // Fire and forget: a stalled Redis must not stall the probe loop; the missing reply is the signal.
                await _subscriber.PublishAsync(_keys.NodeChannel(_keys.NodeId), ProbeFrame, CommandFlags.FireAndForget).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Unreachable: the missing probe turns the engine unhealthy below.
            }

            long silentMs = Environment.TickCount64 - Volatile.Read(ref _lastProbeMs);
            if (silentMs > UnhealthyAfterMs)
            {
                if (_healthy)
                {
                    _healthy = false;
                    RedisEngineLog.Unhealthy(_logger, silentMs);
                }

                await CloseStalledSubscriptionAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// When commands work but probes do not come back, the subscription connection is dead without
    /// knowing it (a half-open TCP connection): close it on the server so that the client reconnects.
    /// </summary>
    private async Task CloseStalledSubscriptionAsync()
    {
        long now = Environment.TickCount64;
        // At most every 5 s: a reconnect needs a moment before probes can prove it.
        if (now - _lastStallKillMs < 5000)
        {
            return;
        }

        _lastStallKillMs = now;
        try
        {
            var name = $"{_options.Prefix}:{_keys.NodeId}";
            var list = (string?)await _db.ExecuteAsync("CLIENT", "LIST", "TYPE", "pubsub").ConfigureAwait(false);
            foreach (var line in (list ?? string.Empty).Split('\n'))
            {
                if (line.Contains($" name={name} ", StringComparison.Ordinal) && line.StartsWith("id=", StringComparison.Ordinal))
                {
                    long id = long.Parse(line.AsSpan(3, line.IndexOf(' ', StringComparison.Ordinal) - 3), System.Globalization.CultureInfo.InvariantCulture);
                    RedisEngineLog.SubscriptionStalled(_logger, id);
                    await _db.ExecuteAsync("CLIENT", "KILL", "ID", id).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis itself is unreachable: nothing to close, the client reconnects when it can.
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        RedisEngineLog.ConnectionLost(_logger, e.ConnectionType, e.EndPoint, e.FailureType);
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            Volatile.Write(ref _catchUpsPending, 2);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        RedisEngineLog.ConnectionRestored(_logger, e.ConnectionType, e.EndPoint);
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            Volatile.Write(ref _catchUpsPending, 2);
        }
    }
}
