using Broker.Diagnostics;
using Broker.Core.Handlers;
using Microsoft.Extensions.Logging;

namespace Broker.FunctionalTests.Hostile;

/// <summary>What every case of the gRPC hostile suite checks when it is over.</summary>
public static class GrpcHostile
{
    /// <summary>
    /// No entry at Error or above: a client's mistake is never logged as the broker's own fault. <paramref name="except"/>
    /// names events of the framework's that a case expects (and says why).
    /// </summary>
    public static void AssertNoErrorLogged(BrokerServer server, string context, string? except = null)
    {
        var errors = server.Log.Entries.Where(e => e.Level >= LogLevel.Error && e.EventId.Name != except).Select(static e => $"{e.Category} {e.EventId.Name}: {e.Message} {e.Exception}").ToList();
        Assert.True(errors.Count == 0, $"{context}: the broker logged at Error for a client's mistake:\n{string.Join('\n', errors)}");
    }

    /// <summary>
    /// Waits until the broker holds no gRPC stream (the stream gauge, and the requests the drain waits for) beyond
    /// <paramref name="streams"/>, no handler and no subscription beyond <paramref name="subscriptions"/>: what an
    /// ended call held is given back. Nothing signals "released", so
    /// this looks every 20 ms, at most <see cref="BrokerServer.DefaultTimeout"/>.
    /// </summary>
    public static async Task AssertReleasedAsync(BrokerServer server, string context, long streams = 0, long subscriptions = 0)
    {
        var metrics = server.Services.GetRequiredService<BrokerMetrics>();
        var handlers = server.Services.GetRequiredService<HandlerRegistry>();
        var hub = server.Services.GetRequiredService<Broker.Core.Hub>();
        var drain = server.Services.GetRequiredService<Broker.Lifecycle.DrainState>();
        var deadline = DateTime.UtcNow + BrokerServer.DefaultTimeout;
        // Exactly the expected counts at one look, not "at most": a count below them is a release counted twice. Not
        // asserted again afterwards: a burst's last streams may still be reaching the broker (Kestrel dispatches them
        // after it read their frames), and such a late one counts in for a moment before it ends too.
        while (metrics.GrpcStreams != streams || drain.InFlight != streams || handlers.Count > 0 || hub.SubscriptionCount > subscriptions)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{context}: still held: {metrics.GrpcStreams} gRPC streams and {drain.InFlight} requests in flight (expected {streams}), {handlers.Count} handlers, {hub.SubscriptionCount} subscriptions (expected {subscriptions})");
            await Task.Delay(20);
        }
    }
}
