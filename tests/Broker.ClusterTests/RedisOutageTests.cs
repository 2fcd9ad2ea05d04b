using System.Diagnostics;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sdk;
using Xunit.Abstractions;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": Redis unreachable (SIGSTOP: its sockets stay open and nothing
/// answers) makes every node's /readyz 503 within 5 s and publish answer <c>unavailable</c> at once, while open
/// sockets stay open; when Redis is back (SIGCONT), live subscribers continue with no gap.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RedisOutageTests(ClusterFixture cluster, ITestOutputHelper output)
{
    /// <summary>PROTOCOL.md's bound for /readyz to turn 503 after Redis becomes unreachable.</summary>
    private static readonly TimeSpan ReadyzBound = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The Redis engine's default <c>Broker:Redis:OperationTimeout</c>: an answer later than this would mean the
    /// request waited on Redis instead of failing at once.
    /// </summary>
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task While_redis_is_stopped_nodes_are_not_ready_and_refuse_at_once_keeping_sockets_and_when_it_continues_subscribers_go_on_without_a_gap()
    {
        var channel = ClusterClients.NewChannel("outage");
        var subscribers = new List<TestSocket>();
        try
        {
            foreach (var node in cluster.Nodes)
            {
                var subscriber = await node.ConnectSocketAsync("sub-" + node.Name);
                subscribers.Add(subscriber);
                await subscriber.SubscribeAsync(channel);
            }

            await using var publisher = await cluster.B.ConnectSocketAsync("publisher");
            for (int i = 1; i <= 3; i++)
            {
                await cluster.A.Client.PublishAsync(channel, new { i }).WaitAsync(BrokerServer.DefaultTimeout);
            }

            foreach (var subscriber in subscribers)
            {
                for (long offset = 1; offset <= 3; offset++)
                {
                    Assert.Equal(offset, (await subscriber.NextPublicationAsync()).Offset());
                }
            }

            cluster.Redis.Process.Pause();
            try
            {
                var notReady = await Task.WhenAll(cluster.Nodes.Select(n => n.WaitForReadyzAsync(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30))));
                output.WriteLine("/readyz 503 after " + string.Join(", ", notReady.Select(static t => $"{t.TotalSeconds:F1} s")));
                Assert.All(notReady, t => Assert.True(t <= ReadyzBound, $"/readyz turned 503 after {t.TotalSeconds:F1} s, more than {ReadyzBound.TotalSeconds} s"));

                // Publish over WebSocket and over gRPC: unavailable, without waiting on Redis.
                var asked = Stopwatch.StartNew();
                await publisher.SendJsonAsync(new { type = "publish", id = 9, channel, data = new { i = -1 } });
                var error = await publisher.NextFrameAsync(OperationTimeout);
                Assert.Equal(("error", "unavailable", 9L), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("id").GetInt64()));
                output.WriteLine($"WebSocket publish refused after {asked.Elapsed.TotalMilliseconds:F0} ms");

                asked.Restart();
                using var deadline = new CancellationTokenSource(OperationTimeout);
                var refused = await Assert.ThrowsAsync<BrokerException>(() => cluster.C.Client.PublishAsync(channel, new { i = -2 }, cancellationToken: deadline.Token));
                // By name: the SDK's gRPC transport is being moved onto Grpc.Net.Client, whose StatusCode is another enum.
                Assert.Equal("Unavailable", refused.StatusCode.ToString());
                output.WriteLine($"gRPC publish refused after {asked.Elapsed.TotalMilliseconds:F0} ms");

                // The sockets stay open and answer.
                foreach (var subscriber in subscribers.Append(publisher))
                {
                    await subscriber.ExpectAliveAsync();
                }
            }
            finally
            {
                cluster.Redis.Process.Resume();
            }

            await cluster.WaitAllReadyAsync(TimeSpan.FromSeconds(30));
            for (int i = 4; i <= 6; i++)
            {
                await cluster.C.Client.PublishAsync(channel, new { i }).WaitAsync(BrokerServer.DefaultTimeout);
            }

            // No gap, and no unsolicited subscribed in between (no new epoch: Redis kept the channel).
            foreach (var subscriber in subscribers)
            {
                for (long offset = 4; offset <= 6; offset++)
                {
                    var pub = await subscriber.NextPublicationAsync();
                    Assert.Equal(offset, pub.Offset());
                }
            }
        }
        finally
        {
            cluster.Redis.Process.Resume();
            foreach (var subscriber in subscribers)
            {
                await subscriber.DisposeAsync();
            }

            // The next test gets a ready cluster, or fails here saying why.
            await cluster.WaitAllReadyAsync(TimeSpan.FromSeconds(30));
        }
    }
}
