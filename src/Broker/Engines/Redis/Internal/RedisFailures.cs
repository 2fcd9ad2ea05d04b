using StackExchange.Redis;

namespace Broker.Engines.Redis.Internal;

/// <summary>
/// Which StackExchange.Redis failures mean "Redis cannot answer now" (the caller answers <c>unavailable</c> and may
/// try again), as opposed to "the call is wrong" (a bug, left to surface as it is). The engine and the Redis session
/// and ticket stores decide it here, so an outage looks the same to every request whichever store it touched.
/// </summary>
internal static class RedisFailures
{
    /// <summary>
    /// No connection, a timeout, a disposed connection (shutdown), or a server that is loading its data set, busy
    /// with a script, or a replica or cluster node cut off from its primary.
    /// </summary>
    public static bool IsUnavailable(Exception e) => e switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException or ObjectDisposedException => true,
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal),
        _ => false,
    };
}
