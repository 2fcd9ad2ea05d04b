using System.Text.Json;
using Broker.LoadTest;
using Xunit.Abstractions;

namespace Broker.LoadTests;

public sealed class LoadTestSmokeTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task SmokeRunDeliversEveryMessageOnEveryServer()
    {
        var directory = Directory.CreateTempSubdirectory("broker-loadtest-").FullName;
        try
        {
            using var writer = new StringWriter();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));

            int exitCode = await LoadTestRunner.RunAsync(["--smoke", "--out", directory], writer, timeout.Token);

            output.WriteLine(writer.ToString());
            Assert.Equal(0, exitCode);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "loadtest.json")));
            var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
            var paths = ServerProcess.Paths.Find();
            // test.sh installs nats-server, and the broker and SignalR server are built with the solution: all
            // three must be there, so a broken install fails here instead of shrinking the comparison.
            var installed = Enum.GetValues<ServerKind>().Where(paths.Has).Select(static k => k.ToString()).ToHashSet();
            Assert.Equal(Enum.GetValues<ServerKind>().Select(static k => k.ToString()).ToHashSet(), installed);
            foreach (var scenario in Enum.GetValues<Scenario>())
            {
                var servers = runs.Where(r => r.GetProperty("scenario").GetString() == scenario.ToString()).Select(static r => r.GetProperty("server").GetString()!).ToHashSet();
                Assert.Equal(scenario == Scenario.Grpc ? ["Broker"] : installed, servers);
            }

            foreach (var run in runs)
            {
                Assert.Equal(JsonValueKind.Null, run.GetProperty("failure").ValueKind);
                Assert.Equal(0, run.GetProperty("lost").GetInt64());
                Assert.Equal(0, run.GetProperty("errors").GetInt64());
                Assert.Equal(run.GetProperty("expected").GetInt64(), run.GetProperty("delivered").GetInt64() + run.GetProperty("dropped").GetInt64());
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
