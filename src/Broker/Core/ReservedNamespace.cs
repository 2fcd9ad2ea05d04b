namespace Broker.Core;

/// <summary>
/// A <c>$</c> namespace a feature of the broker owns (the dashboard's <c>$broker</c>): registered in the
/// container by that feature, so the core's namespace table needs to know nothing above it.
/// </summary>
/// <param name="Name">The namespace, <c>$</c> included.</param>
/// <param name="Options">Its settings; configuration does not override them.</param>
public sealed record ReservedNamespace(string Name, NamespaceOptions Options);
