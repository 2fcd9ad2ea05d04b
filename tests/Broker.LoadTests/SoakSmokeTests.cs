using System.Text.Json;
using Broker.LoadTest.Soak;
using Xunit.Abstractions;

namespace Broker.LoadTests;

/// <summary>
/// A short, bounded soak against the real broker process: 300 sockets for 15 s of churn (abort, close, resume) and
/// publishing, then the soak's end conditions, read from its report: /stats back to 0 connections and 0
/// subscriptions, nothing acknowledged lost, no Error in the broker's log, the RSS curve written. The full soak
/// (5,000 sockets, minutes) is run by hand: docs/performance.md, "Soak".
/// </summary>
public sealed class SoakSmokeTests(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task ShortSoakEndsWithNothingLeftAndNothingLost()
    {
        var directory = Directory.CreateTempSubdirectory("broker-soak-").FullName;
        try
        {
            using var writer = new StringWriter();
            // A deadline, not a speed: about 30 s on the 2-core machine at a load average of 16.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));

            int exitCode = await LoadTest.LoadTestRunner.RunAsync(
                ["--scenarios", "soak", "--sockets", "300", "--duration", "15", "--churn", "30", "--publish-rate", "50", "--sources", "2", "--sample", "2", "--seed", "1", "--out", directory],
                writer, timeout.Token);

            output.WriteLine(writer.ToString());
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "soak.json")));
            var soak = json.RootElement;
            Assert.True(soak.GetProperty("failures").GetArrayLength() == 0, soak.GetProperty("failures").ToString());
            Assert.Equal(0, exitCode);
            Assert.NotEqual(JsonValueKind.Null, soak.GetProperty("statsSecondsToZero").ValueKind);
            Assert.Equal(0, soak.GetProperty("finalConnections").GetInt64());
            Assert.Equal(0, soak.GetProperty("finalSubscriptions").GetInt64());
            Assert.Equal(0, soak.GetProperty("lost").GetInt64());
            Assert.Equal(0, soak.GetProperty("duplicates").GetInt64());
            Assert.Equal(0, soak.GetProperty("brokerErrors").GetArrayLength());
            Assert.Equal(0, soak.GetProperty("connectFailures").GetInt64());
            // The churn did what it is for: sockets aborted, closed and resumed, publications acknowledged and delivered.
            Assert.True(soak.GetProperty("aborts").GetInt64() > 0 && soak.GetProperty("closes").GetInt64() > 0);
            Assert.True(soak.GetProperty("recovered").GetInt64() > 0);
            Assert.Equal(0, soak.GetProperty("notRecovered").GetInt64());
            Assert.True(soak.GetProperty("connects").GetInt64() > 300, "no socket reconnected");
            Assert.True(soak.GetProperty("acknowledged").GetInt64() > 0 && soak.GetProperty("delivered").GetInt64() > 0);
            // The curve: a sample every 2 s from the start to after the close, as CSV and SVG.
            var csv = await File.ReadAllLinesAsync(Path.Combine(directory, "soak-rss.csv"));
            Assert.True(csv.Length > 8, $"{csv.Length - 1} RSS samples");
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(directory, "soak-rss.svg")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void OptionsParseAndRefuseNonsense()
    {
        var options = SoakOptions.Parse(["--scenarios", "soak", "--sockets", "5000", "--duration", "300", "--churn", "50", "--seed", "7", "--rss-max-slope", "1.5", "--rss-window", "120"]);

        Assert.Equal(5000, options.Sockets);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Duration);
        Assert.Equal(7, options.Seed);
        Assert.Equal(1.5, options.RssMaxSlopeMiBPerMinute);
        Assert.Equal(TimeSpan.FromMinutes(2), options.RssWindow);
        Assert.True(SoakOptions.Requested(["--scenarios", "soak"]));
        Assert.False(SoakOptions.Requested(["--scenarios", "fanout"]));
        Assert.Throws<ArgumentException>(() => SoakOptions.Parse(["--sockets", "0"]));
        Assert.Throws<ArgumentException>(() => SoakOptions.Parse(["--scenarios", "fanout,soak"]));
    }
}
