using Broker.Diagnostics;
using Broker.Engines.Redis.Internal;
using Broker.Sessions.Internal;
using StackExchange.Redis;

namespace Broker.Sessions.Redis.Internal;

/// <summary>
/// The one place where the Redis session and ticket stores meet Redis's failures: every call goes through
/// <see cref="Database"/> and <see cref="AwaitAsync{T}"/> (or <see cref="Run{T}"/>), which turn an unreachable,
/// stalled or loading Redis into <see cref="SessionStoreUnavailableException"/> and log the cause once a minute
/// with a count, so that no caller handles StackExchange.Redis's exceptions and an outage cannot flood the log.
/// </summary>
/// <remarks>
/// A call fails at once, without a round trip, while <c>isReachable</c> says Redis is unreachable: the engine's
/// liveness probe (docs/cluster.md), which notices a stopped or frozen Redis within 3 s, where the connection
/// itself would only time out each command. Before the probe notices, a command fails after the connection's
/// timeout (<c>Broker:Redis:OperationTimeout</c>).
/// </remarks>
internal sealed class RedisStoreCalls
{
    private readonly IConnectionMultiplexer _redis;
    private readonly Func<bool>? _isReachable;
    private readonly ILogger _logger;

    // One cause, one gate: a client can make a request per millisecond during an outage, the log gets one line a minute.
    private readonly LogGate _unreachableLog;

    /// <summary>Creates the calls on <paramref name="redis"/>.</summary>
    /// <param name="redis">The process's connection for sessions, tickets and the key ring.</param>
    /// <param name="isReachable">Whether Redis is reachable now, as far as is known without a round trip; <see langword="null"/>: always try.</param>
    /// <param name="logger">Where the outage is logged.</param>
    /// <param name="time">The clock of the log gate.</param>
    public RedisStoreCalls(IConnectionMultiplexer redis, Func<bool>? isReachable, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _isReachable = isReachable;
        _logger = logger;
        _unreachableLog = new LogGate(time, TimeSpan.FromMinutes(1));
    }

    /// <summary>The database to call; throws <see cref="SessionStoreUnavailableException"/> at once while Redis is known to be unreachable.</summary>
    public IDatabase Database
    {
        get
        {
            if (_isReachable is not null && !_isReachable())
            {
                throw Unavailable("Redis is unreachable (the engine's liveness probe is failing)", null);
            }

            return _redis.GetDatabase();
        }
    }

    /// <summary>Awaits a command, turning Redis's failures into <see cref="SessionStoreUnavailableException"/>.</summary>
    public async Task<T> AwaitAsync<T>(Task<T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable("Redis did not answer: " + e.Message, e);
        }
    }

    /// <summary>Runs a blocking command (the synchronous store members), turning Redis's failures into <see cref="SessionStoreUnavailableException"/>.</summary>
    public T Run<T>(Func<IDatabase, T> call)
    {
        var db = Database;
        try
        {
            return call(db);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable("Redis did not answer: " + e.Message, e);
        }
    }

    private SessionStoreUnavailableException Unavailable(string reason, Exception? cause)
    {
        if (_unreachableLog.TryPass(out var count))
        {
            SessionsLog.StoreUnreachable(_logger, reason, count);
        }

        return cause is null
            ? new SessionStoreUnavailableException("The session store is unreachable; try again.")
            : new SessionStoreUnavailableException("The session store is unreachable; try again.", cause);
    }
}
