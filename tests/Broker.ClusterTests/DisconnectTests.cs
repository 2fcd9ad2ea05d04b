using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": <c>Disconnect</c> reaches matching sockets on every node and
/// its reply counts them all (the request crosses nodes on the engine's control path).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DisconnectTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Disconnect_on_node_a_closes_the_users_sockets_on_b_and_c_with_4002_and_counts_them_all()
    {
        // A user of this test only: the shared cluster's other tests never see these sockets closed.
        var user = "dora-" + Guid.NewGuid().ToString("N")[..8];
        var sockets = new List<TestSocket>();
        try
        {
            sockets.Add(await cluster.B.ConnectSocketAsync(user));
            sockets.Add(await cluster.C.ConnectSocketAsync(user));
            sockets.Add(await cluster.C.ConnectSocketAsync(user));
            await using var bystander = await cluster.C.ConnectSocketAsync("bystander-" + user);

            var closed = await cluster.A.Client.DisconnectAsync(sessionId: null, userId: user, reason: "banned", reconnect: true).WaitAsync(BrokerServer.DefaultTimeout);

            Assert.Equal(3, closed);
            foreach (var socket in sockets)
            {
                var disconnect = await socket.NextFrameAsync();
                Assert.Equal("disconnect", disconnect.GetProperty("type").GetString());
                Assert.Equal("banned", disconnect.GetProperty("reason").GetString());
                Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
                Assert.Equal(4002, await socket.ExpectCloseAsync());
            }

            // Only the user's sockets: another user's on the same node stays open.
            await bystander.ExpectAliveAsync();
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }
}
