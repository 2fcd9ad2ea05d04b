namespace Broker.Lifecycle;

/// <summary>The graceful drain's settings, bound from the <c>Broker</c> section (<c>Broker:DrainTimeout</c>).</summary>
public sealed class DrainOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker";

    /// <summary>How long a graceful shutdown may take: sockets and streams are closed within it. Default 10 seconds; must be positive.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
