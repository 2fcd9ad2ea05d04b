using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.LoadTest.Soak;

/// <summary>What the soak did and found, the end conditions judged (<see cref="Failures"/>), and its report.</summary>
internal sealed record SoakResult
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    [JsonIgnore]
    public SoakOptions Options { get; init; } = new();

    public string Command { get; init; } = "";

    public string Machine { get; init; } = "";

    public string LoadAverageAtStart { get; init; } = "";

    public string LoadAverageAtEnd { get; init; } = "";

    public int Sockets => Options.Sockets;

    public double DurationSeconds => Options.Duration.TotalSeconds;

    public int Seed => Options.Seed;

    public double RampSeconds { get; init; }

    public double ChurnEndSeconds { get; init; }

    public double ClosedSeconds { get; init; }

    public long Connects { get; init; }

    public long ConnectFailures { get; init; }

    public long Aborts { get; init; }

    public long Closes { get; init; }

    /// <summary>Subscriptions asked to resume (<c>hello.resume</c> entries), and how many came back recovered or not.</summary>
    public long ResumesAsked { get; init; }

    public long Recovered { get; init; }

    public long NotRecovered { get; init; }

    public long PublishesSent { get; init; }

    public long Acknowledged { get; init; }

    /// <summary>Publishes whose socket the soak ended before their ack came: not owed to anyone.</summary>
    public long Unacknowledged { get; init; }

    public long Subscriptions { get; init; }

    public long SubscriptionsResumed { get; init; }

    /// <summary>Subscriptions live when the churn stopped: owed every acknowledged publication up to their channel's top.</summary>
    public int Stayers { get; init; }

    public bool CaughtUp { get; init; }

    public long Delivered { get; init; }

    public long Duplicates { get; init; }

    public long LaggedNotices { get; init; }

    public long LaggedOffsets { get; init; }

    /// <summary>Acknowledged publications a subscriber that stayed throughout their window neither received nor was told of (<c>lagged</c>).</summary>
    public long Lost { get; init; }

    /// <summary>Publications missing in the same way whose publisher never got an ack (its socket ended): reported, not owed.</summary>
    public long MissedUnacknowledged { get; init; }

    public IReadOnlyList<string> LostExamples { get; init; } = [];

    public long UnexpectedCloses { get; init; }

    public long UnexpectedPublications { get; init; }

    public IReadOnlyDictionary<string, long> ErrorFrames { get; init; } = new Dictionary<string, long>();

    public long PingsAnswered { get; init; }

    /// <summary>Seconds from the last socket's close until <c>/stats</c> said 0 connections and 0 subscriptions; null: not within the deadline.</summary>
    public double? StatsSecondsToZero { get; init; }

    public long FinalConnections { get; init; }

    public long FinalSubscriptions { get; init; }

    [JsonIgnore]
    public RssVerdict Rss { get; init; } = new(null, false, true, "");

    public string RssVerdict => Rss.Text;

    public double? RssSlopeMiBPerMinute => Rss.SlopeMiBPerMinute;

    public double RssAtWindowStartMiB { get; init; }

    public double RssAtChurnEndMiB { get; init; }

    public double RssPeakMiB { get; init; }

    /// <summary>The broker's log entries at Error or Critical during the soak (their first lines).</summary>
    public IReadOnlyList<string> BrokerErrors { get; init; } = [];

    public IReadOnlyList<string> Notes { get; init; } = [];

    [JsonIgnore]
    public IReadOnlyList<RssSample> Curve { get; init; } = [];

    /// <summary>Every end condition that does not hold; empty: the soak passed.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            var failures = new List<string>();
            void Check(bool ok, string what)
            {
                if (!ok)
                {
                    failures.Add(what);
                }
            }

            Check(StatsSecondsToZero is not null, string.Create(Invariant, $"/stats still says {FinalConnections} connections and {FinalSubscriptions} subscriptions {Options.StatsDeadline.TotalSeconds:0} s after the last close"));
            Check(Lost == 0, $"{Lost} acknowledged publications lost (neither delivered nor told as lagged)");
            Check(Duplicates == 0, $"{Duplicates} publications delivered twice");
            Check(Rss.Flat, "RSS " + Rss.Text);
            Check(BrokerErrors.Count == 0, $"the broker logged {BrokerErrors.Count} Error entries");
            Check(ConnectFailures == 0, $"{ConnectFailures} connects failed");
            Check(UnexpectedCloses == 0, $"{UnexpectedCloses} sockets ended without the soak asking");
            Check(ErrorFrames.Count == 0, "error frames: " + string.Join(", ", ErrorFrames.Select(static e => $"{e.Key} {e.Value}")));
            Check(UnexpectedPublications == 0, $"{UnexpectedPublications} publications of a channel or epoch the socket was not subscribed to");
            Check(NotRecovered == 0, $"{NotRecovered} resumes came back recovered:false (history is kept 30 s; a resume takes less)");
            Check(Acknowledged > 0 && Delivered > 0, "nothing was published or delivered");
            Check(Options.ChurnPerSecond == 0 || (Aborts > 0 && Closes > 0 && Recovered > 0), "the churn did not abort, close and resume");
            return failures;
        }
    }

    public bool Ok => Failures.Count == 0;

    public string Json() => JsonSerializer.Serialize(this, JsonOptions);

    public string Markdown()
    {
        var md = new StringBuilder();
        void Line(FormattableString text) => md.AppendLine(text.ToString(Invariant));
        Line($"# Soak: {Sockets:N0} sockets, {DurationSeconds:0} s of churn, seed {Seed}");
        md.AppendLine();
        Line($"`{Command}`");
        md.AppendLine();
        Line($"{Machine}; load average {LoadAverageAtStart} at the start, {LoadAverageAtEnd} at the end.");
        md.AppendLine();
        md.AppendLine(Ok ? "**Passed**: every end condition holds." : "**FAILED**: " + string.Join("; ", Failures) + ".");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | --: |");
        Line($"| sockets connected (all, with reconnects) / failed | {Connects:N0} / {ConnectFailures:N0} |");
        Line($"| ramp to {Sockets:N0} sockets | {RampSeconds:0.0} s |");
        Line($"| churned: aborted (no close frame) / closed (handshake) | {Aborts:N0} / {Closes:N0} |");
        Line($"| resume entries asked / recovered / not recovered | {ResumesAsked:N0} / {Recovered:N0} / {NotRecovered:N0} |");
        Line($"| publishes sent / acknowledged / socket ended first | {PublishesSent:N0} / {Acknowledged:N0} / {Unacknowledged:N0} |");
        Line($"| subscriptions judged / resumed at least once / live at the end | {Subscriptions:N0} / {SubscriptionsResumed:N0} / {Stayers:N0} |");
        Line($"| deliveries / duplicates | {Delivered:N0} / {Duplicates:N0} |");
        Line($"| `lagged` notices / publications they told of | {LaggedNotices:N0} / {LaggedOffsets:N0} |");
        Line($"| **lost** (acknowledged, owed, neither delivered nor lagged) | **{Lost:N0}** |");
        Line($"| missing but never acknowledged (not owed) | {MissedUnacknowledged:N0} |");
        Line($"| sockets the broker ended unasked / error frames / stray pubs | {UnexpectedCloses:N0} / {ErrorFrames.Values.Sum():N0} / {UnexpectedPublications:N0} |");
        Line($"| `/stats` at 0 connections and 0 subscriptions | {(StatsSecondsToZero is { } z ? z.ToString("0.0 's after the last close'", Invariant) : $"no: {FinalConnections} connections, {FinalSubscriptions} subscriptions")} |");
        Line($"| RSS at the judged window's start / at the churn's end / peak (VmHWM) | {RssAtWindowStartMiB:0} / {RssAtChurnEndMiB:0} / {RssPeakMiB:0} MiB |");
        Line($"| RSS verdict | {Rss.Text} |");
        Line($"| broker log entries at Error | {BrokerErrors.Count} |");
        md.AppendLine();
        md.AppendLine("RSS (MiB) over time (s), every sample (soak-rss.csv has /stats beside it):");
        md.AppendLine();
        md.AppendLine(string.Join("  ", Curve.Select(static s => string.Create(Invariant, $"{s.Seconds:0}:{s.RssBytes / 1048576.0:0}"))));
        if (LostExamples.Count > 0 || BrokerErrors.Count > 0 || Notes.Count > 0)
        {
            md.AppendLine();
            foreach (var line in LostExamples.Concat(BrokerErrors).Concat(Notes))
            {
                md.Append("- ").AppendLine(line);
            }
        }

        return md.ToString();
    }
}
