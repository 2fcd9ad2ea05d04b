namespace Broker.Dashboard;

/// <summary><c>Broker:Dashboard</c>: the live page at <c>/dashboard</c> and its feed, <c>$broker:stats</c>.</summary>
public sealed class DashboardOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker:Dashboard";

    /// <summary>How much the dashboard shows, and so how long the feed's history lasts.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>Snapshots in <see cref="Window"/> at one a second.</summary>
    public const int HistorySnapshots = 300;

    /// <summary>
    /// Whether browsers may subscribe to <c>$broker:stats</c> and <c>/dashboard</c> is served. Default
    /// false (true in appsettings.Development.json): the feed shows the broker's load to anyone who
    /// opens a socket.
    /// </summary>
    public bool Enabled { get; set; }
}
