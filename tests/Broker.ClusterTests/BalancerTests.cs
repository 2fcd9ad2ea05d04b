using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Broker.ClusterTests;

/// <summary>
/// The cluster sample's promise, through its own balancer (samples/Cluster/Balancer): pages spread over the
/// nodes with no affinity, and a page whose node is killed reconnects through the balancer to another node
/// and recovers what it missed.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BalancerTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Through_the_sample_balancer_a_client_of_a_killed_node_reconnects_to_another_node_and_recovers()
    {
        var channel = ClusterClients.NewChannel("balanced");
        await using var doomed = await cluster.StartNodeAsync("node-k3");
        await using var balancer = await BalancerProcess.StartAsync([cluster.A, cluster.B, doomed]);
        var sockets = new List<TestSocket>();
        try
        {
            // Round robin with no affinity: a few sockets through the balancer, until the doomed node holds one.
            int onDoomed = 0;
            while (onDoomed == 0)
            {
                Assert.True(sockets.Count < 6, "six sockets through the balancer and none on the third node");
                var (socket, _) = await ClusterClients.ConnectAsync(balancer.WebSocketAddress, cluster.A.Client, "page" + sockets.Count);
                sockets.Add(socket);
                await socket.SubscribeAsync(channel);
                onDoomed = await WebSocketsAsync(doomed);
            }

            string epoch = "";
            for (int i = 1; i <= 3; i++)
            {
                epoch = (await cluster.A.Client.PublishAsync(channel, new { i }).WaitAsync(BrokerServer.DefaultTimeout)).Epoch;
            }

            foreach (var socket in sockets)
            {
                for (long offset = 1; offset <= 3; offset++)
                {
                    Assert.Equal(offset, (await socket.NextPublicationAsync()).Offset());
                }
            }

            doomed.Process.Kill();
            var killed = Stopwatch.StartNew();
            var broken = new List<TestSocket>();
            foreach (var socket in sockets)
            {
                if (!await IsAliveAsync(socket))
                {
                    broken.Add(socket);
                }
            }

            Assert.Equal(onDoomed, broken.Count);
            for (int i = 4; i <= 6; i++)
            {
                await cluster.B.Client.PublishAsync(channel, new { i }).WaitAsync(BrokerServer.DefaultTimeout);
            }

            // Each client of the dead node comes back through the balancer, as broker.js does: retrying while the
            // balancer still sends some upgrades to the dead node (502), until its health check takes it out.
            var resume = new Dictionary<string, object> { [channel] = new { epoch, offset = 3 } };
            foreach (var _ in broken)
            {
                var (back, attempts) = await ReconnectAsync(balancer, resume);
                sockets.Add(back);
                output.WriteLine($"reconnected {killed.Elapsed.TotalSeconds:F1} s after the kill, on attempt {attempts}");
                var subscribed = await back.ExpectAsync("subscribed");
                Assert.True(subscribed.GetProperty("recovered").GetBoolean(), subscribed.ToString());
                for (long offset = 4; offset <= 6; offset++)
                {
                    Assert.Equal(offset, (await back.NextPublicationAsync()).Offset());
                }
            }

            // The clients that were not on the dead node saw the same, live.
            foreach (var socket in sockets.Take(sockets.Count - broken.Count).Except(broken))
            {
                for (long offset = 4; offset <= 6; offset++)
                {
                    Assert.Equal(offset, (await socket.NextPublicationAsync()).Offset());
                }
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    private static async Task<int> WebSocketsAsync(BrokerProcess node)
    {
        using var web = node.CreateWebClient();
        using var stats = JsonDocument.Parse(await web.GetStringAsync("/stats"));
        return stats.RootElement.GetProperty("connections").GetProperty("websocket").GetInt32();
    }

    /// <summary>Pings and waits for the pong (passing by presence frames); false when the socket is broken.</summary>
    private static async Task<bool> IsAliveAsync(TestSocket socket)
    {
        try
        {
            await socket.SendAsync("""{"type":"ping"}""");
            while (true)
            {
                var frame = await socket.ReceiveAsync();
                var type = frame.GetProperty("type").GetString();
                if (type == "pong")
                {
                    return true;
                }

                Assert.True(type is "ping" or "join" or "leave", $"expected a pong, got {frame}");
            }
        }
        catch (Exception e) when (e is WebSocketException or WebSocketClosedException)
        {
            return false;
        }
    }

    private async Task<(TestSocket Socket, int Attempts)> ReconnectAsync(BalancerProcess balancer, object resume)
    {
        var deadline = Stopwatch.StartNew();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var (socket, _) = await ClusterClients.ConnectAsync(balancer.WebSocketAddress, cluster.A.Client, "returning", resume);
                return (socket, attempt);
            }
            catch (WebSocketException e) when (deadline.Elapsed < BrokerServer.DefaultTimeout)
            {
                output.WriteLine($"attempt {attempt}: {e.Message}");
                await Task.Delay(200);  // a client's reconnect back-off, not a synchronisation
            }
        }
    }
}
