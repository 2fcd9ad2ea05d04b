namespace Broker.Sessions.Redis;

/// <summary>
/// Where the cluster keeps sessions, tickets and the Data Protection key ring: the Redis of
/// PROTOCOL.md, "Running several brokers (cluster)". Read from <c>Broker:Redis:Configuration</c>,
/// <c>Broker:Redis:Prefix</c> and <c>Broker:Redis:OperationTimeout</c>, the keys the Redis engine reads too, and used when <c>Broker:Engine</c> is
/// <c>Redis</c>.
/// </summary>
/// <remarks>
/// Sessions read the keys themselves rather than through the engine's options so that the two areas do
/// not share options classes; both read the same configuration, so they cannot disagree. What sessions do take from
/// the engine is its view of Redis (<c>IEngine.IsHealthy</c>), so that a request answers <c>unavailable</c> at once
/// while Redis is known to be down.
/// </remarks>
public sealed class RedisSessionsOptions
{
    /// <summary>The value of <c>Broker:Engine</c> that selects Redis for the engine, sessions, tickets and key ring.</summary>
    public const string EngineName = "Redis";

    /// <summary>The default of <see cref="Configuration"/>: a Redis on this machine's default port.</summary>
    public const string DefaultConfiguration = "127.0.0.1:6379";

    /// <summary>The default of <see cref="Prefix"/>.</summary>
    public const string DefaultPrefix = "broker";

    /// <summary>
    /// The Data Protection application name every node shares, so each node unprotects the cookies of every
    /// other (the default name is derived from the content root, which differs between machines).
    /// </summary>
    public const string ApplicationName = "Broker";

    /// <summary>
    /// <c>Broker:Redis:Configuration</c>: a StackExchange.Redis configuration string
    /// (<c>host:port[,host:port][,password=…][,ssl=true]</c>). Default <c>127.0.0.1:6379</c>.
    /// </summary>
    public string Configuration { get; set; } = DefaultConfiguration;

    /// <summary>
    /// <c>Broker:Redis:Prefix</c>: the first segment of every key (<c>&lt;prefix&gt;:sessions:…</c>), so several
    /// clusters can share one Redis; must not be empty. Default <c>broker</c>.
    /// </summary>
    public string Prefix { get; set; } = DefaultPrefix;

    /// <summary>
    /// <c>Broker:Redis:OperationTimeout</c>, read as the engine reads it: the longest a session or ticket command waits
    /// for Redis before the request answers <c>unavailable</c>. Default 2 s.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether <c>Broker:Engine</c> selects Redis (case-insensitively, as configuration keys are).</summary>
    public static bool IsSelected(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return string.Equals(configuration["Broker:Engine"], EngineName, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads <c>Broker:Redis:Configuration</c> and <c>Broker:Redis:Prefix</c>, with the defaults where unset.</summary>
    public static RedisSessionsOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new RedisSessionsOptions();
        if (configuration["Broker:Redis:Configuration"] is { } redis)
        {
            options.Configuration = redis;
        }

        if (configuration["Broker:Redis:Prefix"] is { } prefix)
        {
            options.Prefix = prefix;
        }

        // The engine's validator refuses a bad value at start; here an unreadable one keeps the default.
        if (TimeSpan.TryParse(configuration["Broker:Redis:OperationTimeout"], System.Globalization.CultureInfo.InvariantCulture, out var timeout) && timeout > TimeSpan.Zero)
        {
            options.OperationTimeout = timeout;
        }

        return options;
    }
}
