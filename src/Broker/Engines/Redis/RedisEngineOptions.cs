namespace Broker.Engines.Redis;

/// <summary>
/// Settings of the <see cref="RedisEngine"/>, bound from <c>Broker:Redis</c> when <c>Broker:Engine</c> is
/// <c>Redis</c> and validated at start. Every node of a cluster must use the same values (docs/cluster.md).
/// </summary>
public sealed class RedisEngineOptions
{
    /// <summary>The configuration section: <c>Broker:Redis</c>.</summary>
    public const string SectionName = "Broker:Redis";

    /// <summary>
    /// Where Redis is: a StackExchange.Redis configuration string (endpoints and options, e.g.
    /// <c>redis1:6379,redis2:6379,password=…</c>). Default <c>127.0.0.1:6379</c>.
    /// </summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// The first part of every key and pub/sub channel the engine uses, so that several clusters can
    /// share one Redis. Default <c>broker</c>. 1-64 bytes of <c>[A-Za-z0-9_.\-:]</c> (no braces: they
    /// would move the hash tag, and no glob characters: pub/sub patterns start with it).
    /// </summary>
    public string Prefix { get; set; } = "broker";

    /// <summary>
    /// How long one Redis command may take before it fails with <see cref="EngineUnavailableException"/>.
    /// Default 2 seconds: Redis answers in well under a millisecond, so waiting longer only makes clients
    /// wait for an answer that will be <c>unavailable</c> anyway; 2 s rides out a busy machine's pauses.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a channel's numbering (its epoch and offset) is kept after its last publish when its
    /// history keeps nothing longer. Default 24 hours. Past it, the next publish starts a new epoch at
    /// offset 1. Longer costs about 100 bytes of Redis memory per idle channel.
    /// </summary>
    public TimeSpan NumberingTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long after its last heartbeat a node counts as dead, its presence entries removed with
    /// <c>leave</c> events. Default 30 seconds; nodes beat every sixth of it (5 s), so a dead node's
    /// members leave within this plus one beat (35 s), inside PROTOCOL.md's 60 s. At least 1 second.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
