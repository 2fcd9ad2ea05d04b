namespace Broker.Core.Handlers;

/// <summary>One live handler: its group, the events it takes, its in-flight limit and the calls it holds.</summary>
public sealed class HandlerRegistration
{
    private readonly string[] _exact;
    private readonly string[] _prefixes;

    internal HandlerRegistration(string handlerId, string group, IReadOnlyList<string> events, int maxInFlight, IHandlerEndpoint endpoint, long order, string? node = null)
    {
        Node = node;
        HandlerId = handlerId;
        Group = group;
        Events = events;
        MaxInFlight = maxInFlight;
        Endpoint = endpoint;
        Order = order;
        var exact = new List<string>();
        var prefixes = new List<string>();
        foreach (var entry in events)
        {
            if (entry.EndsWith('*'))
            {
                prefixes.Add(entry[..^1]);
            }
            else
            {
                exact.Add(entry);
            }
        }

        _exact = [.. exact];
        _prefixes = [.. prefixes];
    }

    /// <summary>The handler's id (<c>Registered.handler_id</c>).</summary>
    public string HandlerId { get; }

    /// <summary>The node whose handler this is, or null for one of this node's own.</summary>
    public string? Node { get; }

    /// <summary>True for a handler whose stream is on this node.</summary>
    public bool IsLocal => Node is null;

    /// <summary>Handlers of a group share the work.</summary>
    public string Group { get; }

    /// <summary>Event names, or prefixes ending in <c>*</c>.</summary>
    public IReadOnlyList<string> Events { get; }

    /// <summary>Most calls the handler holds at once.</summary>
    public int MaxInFlight { get; }

    /// <summary>Where calls go.</summary>
    public IHandlerEndpoint Endpoint { get; }

    /// <summary>Calls given to the handler and not yet answered. Guarded by the registry's lock.</summary>
    internal Dictionary<ulong, InboundCall> InFlight { get; } = [];

    /// <summary>Registration order: ties between equally specific groups go to the earliest.</summary>
    internal long Order { get; }

    /// <summary>
    /// How specifically the handler matches <paramref name="eventName"/>: -1 not at all; an exact name
    /// beats any prefix; a longer prefix beats a shorter one.
    /// </summary>
    internal int Score(string eventName)
    {
        foreach (var name in _exact)
        {
            if (string.Equals(name, eventName, StringComparison.Ordinal))
            {
                return int.MaxValue;
            }
        }

        int best = -1;
        foreach (var prefix in _prefixes)
        {
            if (prefix.Length > best && eventName.StartsWith(prefix, StringComparison.Ordinal))
            {
                best = prefix.Length;
            }
        }

        return best;
    }
}
