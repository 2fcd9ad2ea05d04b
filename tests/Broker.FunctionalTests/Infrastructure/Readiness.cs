namespace Broker.FunctionalTests.Infrastructure;

/// <summary>
/// Waits for a broker's <c>/readyz</c>, as a load balancer would before it sends a node traffic: a cluster node is
/// ready once its engine reaches Redis (PROTOCOL.md: 503 within 5 s of losing it).
/// </summary>
public static class Readiness
{
    /// <summary>
    /// Starts a cluster node and waits until it is ready, as a load balancer does before it sends the node traffic. A
    /// node whose engine has not reached Redis yet answers a <c>hello</c> <c>unavailable</c>, and on a busy machine the
    /// engine's start-up wait can end before the first probe came back: a test that used the node at once was flaky.
    /// </summary>
    public static async Task<BrokerServer> StartReadyNodeAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var node = await BrokerServer.StartAsync(settings);
        try
        {
            await node.WaitForReadyzAsync();
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>/readyz</c> until it answers <paramref name="status"/>, for at most <see cref="BrokerServer.DefaultTimeout"/>.</summary>
    public static async Task WaitForReadyzAsync(this BrokerServer server, HttpStatusCode status = HttpStatusCode.OK)
    {
        using var web = server.CreateWebClient();
        var started = TimeProvider.System.GetTimestamp();
        while ((await web.GetAsync("/readyz").WaitAsync(BrokerServer.DefaultTimeout)).StatusCode != status)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < BrokerServer.DefaultTimeout, $"/readyz did not answer {status}");
            await Task.Delay(50);  // a poll: readiness has no push signal
        }
    }
}
