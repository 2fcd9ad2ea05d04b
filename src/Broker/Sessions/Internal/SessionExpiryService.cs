using Broker.Core;
using Broker.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Broker.Sessions.Internal;

/// <summary>
/// Every <c>Broker:Sessions</c> sweep interval (a quarter of the idle timeout, at most a minute): removes expired
/// sessions from a store that does not expire them itself, marks the session of every socket open on this node as
/// used (a connected session never goes idle), and ends the sockets of each session that is gone (past its
/// lifetime, or removed): <c>disconnect</c> and close 4003.
/// </summary>
/// <remarks>
/// A timer rather than a per-socket deadline: sessions are few next to messages, and one walk per interval costs
/// far less than a timer per session. The price is precision: sockets of a session past its lifetime close within
/// one interval of it. In a cluster each node refreshes the sessions of its own sockets.
/// </remarks>
internal sealed class SessionExpiryService(
    ISessionStore store,
    IServiceProvider services,
    IOptions<BrokerSessionOptions> options,
    TimeProvider time,
    ILogger<SessionExpiryService> logger,
    BrokerMetrics? metrics = null) : BackgroundService
{
    /// <summary>Reason given in the <c>disconnect</c> frame of a session's sockets.</summary>
    public const string EndedReason = "session ended";

    // Touches in flight at once: enough to hide a Redis round trip, few enough not to crowd other commands.
    private const int TouchParallelism = 16;

    private readonly TimeSpan _interval = options.Value.Sessions.SweepInterval;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Optional: a host that adds sessions without the core (a test) has no sockets to keep or end.
        var connections = services.GetService<ConnectionRegistry>();
        using var timer = new PeriodicTimer(_interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SweepAsync(connections, stoppingToken);
                }
                catch (SessionStoreUnavailableException)
                {
                    // Redis is down (the store logged it, once a minute): end no session for it, keep the sockets,
                    // and touch again next time. A session whose idle timeout passes during a longer outage ends then.
                    metrics?.RecordEngineUnavailable("session_sweep");
                    SessionsLog.SessionSweepDeferred(logger, _interval);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // A store that is down (Redis) must not end the sweep for good: try again next time.
                    SessionsLog.SessionSweepFailed(logger, _interval, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One sweep: purge, then keep or end the sessions of this node's sockets.</summary>
    internal async Task SweepAsync(ConnectionRegistry? connections, CancellationToken cancellationToken)
    {
        var removed = await store.PurgeExpiredAsync(cancellationToken);
        if (removed > 0)
        {
            SessionsLog.SessionsExpired(logger, removed);
        }

        if (connections is null)
        {
            return;
        }

        await Parallel.ForEachAsync(
            connections.ConnectedSessions(),
            new ParallelOptions { MaxDegreeOfParallelism = TouchParallelism, CancellationToken = cancellationToken },
            async (sessionId, token) =>
            {
                if (!await store.TouchAsync(sessionId, token))
                {
                    var ended = connections.EndSession(sessionId, EndedReason);
                    SessionsLog.SessionEnded(logger, sessionId, ended);
                }
            });
    }
}
