namespace Broker.Core;

/// <summary>
/// The broker-wide settings the core reads, bound from the <c>Broker</c> section. Each feature binds its
/// own options where it lives (<c>Broker:WebSocket</c>, <c>Broker:Grpc</c>, <c>Broker:Dashboard</c>,
/// the drain's <c>Broker:DrainTimeout</c>, …).
/// </summary>
public sealed class BrokerOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker";

    /// <summary>The namespace key that configures channels without a <c>:</c>.</summary>
    public const string DefaultNamespace = "default";

    /// <summary>
    /// Where publications, history and presence live: <c>InMemory</c> (one broker, the default) or
    /// <c>Redis</c> (several brokers on one Redis, <c>Broker:Redis</c>; sessions and tickets then live there
    /// too). Read when the services are registered (<c>AddBrokerEngine</c>, <c>AddBrokerSessions</c>).
    /// </summary>
    public string Engine { get; set; } = "InMemory";

    /// <summary>Largest <c>data</c> of one publication or <c>send</c>, in bytes of UTF-8 JSON. Default 65,536.</summary>
    public int MaxMessageBytes { get; set; } = 65_536;

    /// <summary>
    /// The most bytes queued for all subscribers of this node together (<see cref="QueueBudget"/>); at it, publish
    /// and subscribe answer <c>unavailable</c> until the writers catch up. Default 1,073,741,824 (1 GiB): room
    /// for a thousand subscribers' full default queues (1 MiB each) while a process of a few GiB stays alive;
    /// NATS's per-connection <c>max_pending</c> is 64 MiB, this is the node-wide sum.
    /// </summary>
    public long MaxQueuedBytes { get; set; } = 1L << 30;

    /// <summary>Per-namespace settings, keyed by namespace (<c>default</c> for channels without one).</summary>
    public Dictionary<string, NamespaceOptions> Namespaces { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Runs Kestrel's socket pipes inline (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>):
    /// a writer's flush sends on its own thread instead of queueing the send to another, and a received
    /// frame reaches the reader without a hop. The broker never blocks in that code, which is what makes
    /// the option safe here. Default true; false restores Kestrel's default.
    /// </summary>
    public bool InlineSocketScheduling { get; set; } = true;
}
