namespace Broker.Core.Handlers;

/// <summary>Settings of <c>send</c> handling, bound from <c>Broker:Handlers</c>.</summary>
public sealed class HandlerOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker:Handlers";

    /// <summary>How long a <c>send</c> waits for its handler's reply before <c>timeout</c>. Default 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>In-flight calls per handler when its registration asks for 0. Default 100.</summary>
    public int DefaultMaxInFlight { get; set; } = 100;
}
