namespace Broker.Core;

/// <summary>
/// Settings of one channel namespace, bound from <c>Broker:Namespaces:&lt;namespace&gt;</c>
/// (<c>default</c> for channels without a <c>:</c>).
/// </summary>
public sealed class NamespaceOptions
{
    /// <summary>Publications kept per channel for recovery and <c>history</c>. Default 0 (none).</summary>
    public int HistorySize { get; set; }

    /// <summary>How long kept publications live. Default 5 minutes.</summary>
    public TimeSpan HistoryTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Who may subscribe from a browser. Default <see cref="Permission.Authenticated"/>.</summary>
    public Permission Subscribe { get; set; } = Permission.Authenticated;

    /// <summary>Who may publish from a browser. Default <see cref="Permission.None"/>.</summary>
    public Permission Publish { get; set; } = Permission.None;

    /// <summary>Keep members and send <c>join</c>/<c>leave</c>. Default false.</summary>
    public bool Presence { get; set; }

    /// <summary>A subscriber's queue bound, in messages. Default 1024.</summary>
    public int BufferMessages { get; set; } = 1024;

    /// <summary>A subscriber's queue bound, in bytes (payload plus a fixed per-message estimate). Default 1 MiB.</summary>
    public long BufferBytes { get; set; } = 1024 * 1024;

    /// <summary>What a full queue does. Default <see cref="OverflowPolicy.DropOldest"/>.</summary>
    public OverflowPolicy Overflow { get; set; } = OverflowPolicy.DropOldest;
}
