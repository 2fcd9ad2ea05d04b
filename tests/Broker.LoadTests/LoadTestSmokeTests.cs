using System.Text.Json;
using Broker.LoadTest;
using Xunit.Abstractions;

namespace Broker.LoadTests;

public sealed class LoadTestSmokeTests(ITestOutputHelper output)
{
    [Fact(Timeout = 180_000)]
    public async Task SmokeRunDeliversEveryMessageOnEveryServer()
    {
        var directory = Directory.CreateTempSubdirectory("broker-loadtest-").FullName;
        try
        {
            using var writer = new StringWriter();
            // A deadline, not a speed: the whole smoke run (27 runs, six of them clusters of three processes) took
            // about 60 s on the 2-core machine at a load average of 20, before the rooms' four runs (about 5 s) came.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));

            int exitCode = await LoadTestRunner.RunAsync(["--smoke", "--out", directory], writer, timeout.Token);

            output.WriteLine(writer.ToString());
            Assert.Equal(0, exitCode);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "loadtest.json")));
            var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
            var paths = ServerProcess.Paths.Find();
            // test.sh installs nats-server and redis-server, and the broker and SignalR server are built with the
            // solution: all must be there, so a broken install fails here instead of shrinking the comparison.
            var installed = Enum.GetValues<ServerKind>().Where(paths.Has).Select(static k => k.ToString()).ToHashSet();
            Assert.Equal(Enum.GetValues<ServerKind>().Select(static k => k.ToString()).ToHashSet(), installed);
            Assert.True(paths.HasRedis, paths.RedisServer + " is missing (test.sh installs redis-server)");
            foreach (var scenario in Enum.GetValues<Scenario>())
            {
                var servers = runs.Where(r => r.GetProperty("scenario").GetString() == scenario.ToString()).Select(static r => r.GetProperty("server").GetString()!).ToHashSet();
                // The cluster scenarios compare with SignalR on its Redis backplane (nats-server has none); gRPC is the broker's alone.
                var expected = Enum.GetValues<ServerKind>().Where(k => k == ServerKind.Broker || scenario.HasPeer(k)).Select(static k => k.ToString()).ToHashSet();
                Assert.Equal(expected, servers);
            }

            foreach (var run in runs)
            {
                string name = run.GetProperty("scenario").GetString() + " on " + run.GetProperty("server").GetString();
                Assert.True(run.GetProperty("failure").ValueKind == JsonValueKind.Null, name + ": " + run.GetProperty("failure"));
                if (run.GetProperty("lossExpected").GetBoolean())
                {
                    continue;  // SignalR's backplane in the Redis blip: at-most-once by design, its loss is the measurement
                }

                Assert.True(run.GetProperty("lost").GetInt64() == 0, name + " lost messages");
                Assert.True(run.GetProperty("errors").GetInt64() == 0, name + " saw errors");
                long arrived = run.GetProperty("delivered").GetInt64() + run.GetProperty("dropped").GetInt64();
                if (run.GetProperty("duplicates").ValueKind == JsonValueKind.Null)
                {
                    Assert.Equal(run.GetProperty("expected").GetInt64(), arrived);
                }
                else
                {
                    // Counted per publication (the cluster runs): a publication refused to its publisher (not expected)
                    // may still have been delivered (docs/cluster.md), so more than expected may arrive, never twice.
                    Assert.True(run.GetProperty("duplicates").GetInt64() == 0, name + " delivered a publication twice");
                    Assert.True(arrived >= run.GetProperty("expected").GetInt64(), name + " counted fewer deliveries than expected");
                }
            }

            // The rooms: every subscriber on one room, and a publication counted once for each subscriber of its room (one
            // that reached another room too would arrive more often than expected, above).
            var smoke = LoadTestOptions.SmokeDefaults;
            foreach (var run in runs.Where(static r => r.GetProperty("scenario").GetString() == nameof(Scenario.Rooms)))
            {
                Assert.Equal(smoke.Rooms * smoke.RoomSubscribers, run.GetProperty("subscribers").GetInt32());
                Assert.Equal(smoke.RoomMessages, run.GetProperty("publications").GetInt64());
                Assert.Equal(smoke.RoomMessages * smoke.RoomSubscribers, run.GetProperty("expected").GetInt64());
            }

            // Both nodes of each cluster got their half, the second one through Redis: the cluster was one.
            foreach (var run in runs.Where(static r => Enum.Parse<Scenario>(r.GetProperty("scenario").GetString()!).IsCluster() && !r.GetProperty("lossExpected").GetBoolean()))
            {
                Assert.Equal(run.GetProperty("delivered").GetInt64() / 2, run.GetProperty("crossNodeDelivered").GetInt64());
            }

            Assert.True(File.Exists(Path.Combine(directory, "loadtest.md")));
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(directory, "loadtest.svg")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
