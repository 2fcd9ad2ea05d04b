using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Broker.Core;

/// <summary>
/// Resolves a channel to its namespace's policy. Built once at start from <see cref="BrokerOptions"/>.
/// A channel whose namespace is not configured resolves to null: the transports refuse it with
/// <c>not_found</c>, as Centrifugo does for an unknown namespace (docs/protocol.md).
/// </summary>
public sealed class NamespaceRegistry
{
    private readonly FrozenDictionary<string, NamespacePolicy> _byName;

    // Span lookups let a publish resolve "chat" out of "chat:lobby" without allocating the substring.
    private readonly FrozenDictionary<string, NamespacePolicy>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    /// <summary>Builds the registry from validated options and the namespaces features reserve (the dashboard's <c>$broker</c>).</summary>
    public NamespaceRegistry(IOptions<BrokerOptions> options, IEnumerable<ReservedNamespace> reserved)
        : this(options.Value, reserved)
    {
    }

    /// <summary>Builds the registry from validated options and the namespaces features reserve.</summary>
    public NamespaceRegistry(BrokerOptions options, IEnumerable<ReservedNamespace>? reserved = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var policies = new Dictionary<string, NamespacePolicy>(StringComparer.Ordinal);
        foreach (var (name, ns) in options.Namespaces)
        {
            policies[name] = new NamespacePolicy(name, ns);
        }

        // The default namespace and the personal ones always exist; configuration may tune them
        // (e.g. HistorySize of "$session"), but browsers can never subscribe or publish to personal
        // channels whatever their policy says (PROTOCOL.md: "forbidden").
        policies.TryAdd(BrokerOptions.DefaultNamespace, new NamespacePolicy(BrokerOptions.DefaultNamespace, new NamespaceOptions()));
        policies.TryAdd("$session", new NamespacePolicy("$session", new NamespaceOptions { Subscribe = Permission.None }));
        policies.TryAdd("$user", new NamespacePolicy("$user", new NamespaceOptions { Subscribe = Permission.None }));

        // The broker's own `$` namespaces come from the features that own them, and configuration cannot
        // change them. `$broker` always exists, so its channels are forbidden (not unknown) to browsers
        // even when the feature that fills it is not registered.
        policies[ChannelNames.BrokerNamespace] = new NamespacePolicy(ChannelNames.BrokerNamespace, new NamespaceOptions { Subscribe = Permission.None, Publish = Permission.None });
        foreach (var ns in reserved ?? [])
        {
            policies[ns.Name] = new NamespacePolicy(ns.Name, ns.Options);
        }

        _byName = policies.ToFrozenDictionary(StringComparer.Ordinal);
        _bySpan = _byName.GetAlternateLookup<ReadOnlySpan<char>>();
        Default = _byName[BrokerOptions.DefaultNamespace];
    }

    /// <summary>The policy of channels without a namespace.</summary>
    public NamespacePolicy Default { get; }

    /// <summary>The policy of <paramref name="channel"/>'s namespace, or null when that namespace is not configured.</summary>
    public NamespacePolicy? Resolve(ReadOnlySpan<char> channel)
    {
        var ns = ChannelNames.GetNamespace(channel);
        if (ns.IsEmpty)
        {
            return Default;
        }

        return _bySpan.TryGetValue(ns, out var policy) ? policy : null;
    }
}
