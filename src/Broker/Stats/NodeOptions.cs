namespace Broker.Stats;

/// <summary>The node's name, bound from the <c>Broker</c> section (<c>Broker:NodeName</c>).</summary>
public sealed class NodeOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Broker";

    /// <summary>The longest name accepted: a label on a dashboard and in a JSON field, not a document.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// The name <c>/stats</c> and the dashboard give this process (<c>node</c>). Default none: the machine
    /// name and six random hex digits (<c>web1-3f9a0c</c>), new at every start, so several processes on one
    /// machine differ. 1-64 of <c>[A-Za-z0-9_.-]</c>.
    /// </summary>
    public string? NodeName { get; set; }
}
