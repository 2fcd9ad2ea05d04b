using System.Diagnostics;
using System.Text.Json;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": a node that dies without warning (SIGKILL) loses nothing that
/// was acknowledged: its clients resume on another node with no gap and no duplicate; its presence entries leave.
/// Each test kills a node of its own (a fourth member of the shared cluster).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeFailureTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_of_a_killed_node_resumes_on_another_node_with_exactly_the_publications_it_missed()
    {
        const int Total = 60;
        const int KillAfter = 15;
        var channel = ClusterClients.NewChannel("kill");
        await using var doomed = await cluster.StartNodeAsync("node-k1");
        var (socket, _) = await doomed.ConnectAsync("kim");
        var subscribed = await socket.SubscribeAsync(channel);
        var epoch = subscribed.Epoch();

        // A paced stream from node a: one publication every 20 ms, each acknowledged before the next.
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            for (int i = 1; i <= Total; i++)
            {
                var result = await cluster.A.Client.PublishAsync(channel, new { i }, cancellationToken: stop.Token).WaitAsync(BrokerServer.DefaultTimeout);
                Assert.Equal((ulong)i, result.Offset);
                Assert.Equal(epoch, result.Epoch);
                await Task.Delay(20, stop.Token);  // the pace of the stream, not a synchronisation
            }
        });

        long last;
        await using (socket)
        {
            for (long offset = 1; offset <= KillAfter; offset++)
            {
                Assert.Equal(offset, (await socket.NextPublicationAsync()).Offset());
            }

            // SIGKILL mid-stream: no drain, no close frame. What was already on the wire still arrives.
            doomed.Process.Kill();
            var tail = (await socket.ReadUntilBrokenAsync(BrokerServer.DefaultTimeout)).Where(static f => f.GetProperty("type").GetString() == "pub").Select(static f => f.Offset()).ToList();
            Assert.Equal(Enumerable.Range(KillAfter + 1, tail.Count).Select(static o => (long)o), tail);
            last = KillAfter + tail.Count;
        }

        Assert.False(publisher.IsCompleted, "the stream ended before the node was killed: nothing was missed");

        // Resume on node b from the last offset seen (hello.resume, as broker.js does).
        var resume = new Dictionary<string, object> { [channel] = new { epoch, offset = last } };
        var (resumed, _) = await cluster.B.ConnectAsync("kim", resume: resume);
        await using (resumed)
        {
            var again = await resumed.ExpectAsync("subscribed");
            Assert.True(again.GetProperty("recovered").GetBoolean(), again.ToString());
            for (long offset = last + 1; offset <= Total; offset++)
            {
                var pub = await resumed.NextPublicationAsync();
                Assert.Equal((offset, epoch, (int)offset), (pub.Offset(), pub.Epoch(), pub.GetProperty("data").GetProperty("i").GetInt32()));
            }

            await publisher.WaitAsync(BrokerServer.DefaultTimeout);
            // Nothing after the last one but what comes next: no duplicate was queued behind it.
            await cluster.C.Client.PublishAsync(channel, new { i = Total + 1 }).WaitAsync(BrokerServer.DefaultTimeout);
            Assert.Equal(Total + 1, (await resumed.NextPublicationAsync()).Offset());
        }

        output.WriteLine($"killed after offset {last} of {Total}; resumed on {cluster.B.Name}");
    }

    [Fact]
    public async Task A_killed_nodes_presence_entries_leave_with_leave_frames_on_the_other_nodes()
    {
        var channel = ClusterClients.NewChannel("ghost");
        await using var watcher = await cluster.A.ConnectSocketAsync("watcher");
        await watcher.SubscribeAsync(channel);
        await HistoryAndPresenceTests.NextPresenceAsync(watcher, "join");

        await using var doomed = await cluster.StartNodeAsync("node-k2");
        await using var ghost = await doomed.ConnectSocketAsync("ghost");
        await ghost.SubscribeAsync(channel);
        Assert.Equal("ghost", (await HistoryAndPresenceTests.NextPresenceAsync(watcher, "join")).GetProperty("member").GetProperty("userId").GetString());

        doomed.Process.Kill();
        var killed = Stopwatch.StartNew();
        // PROTOCOL.md: within 60 s; with the dead node's Broker:Redis:NodeTimeout at 3 s, within a few seconds.
        var leave = await HistoryAndPresenceTests.NextPresenceAsync(watcher, "leave", TimeSpan.FromSeconds(60));
        Assert.Equal("ghost", leave.GetProperty("member").GetProperty("userId").GetString());
        output.WriteLine($"leave {killed.Elapsed.TotalSeconds:F1} s after SIGKILL (NodeTimeout {ClusterFixture.ShortNodeTimeout.TotalSeconds} s)");

        var members = await cluster.B.Client.PresenceAsync(channel).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Equal(["watcher"], members.Select(static m => m.UserId));
    }
}
