using Broker.Core;

namespace Broker.Tests.Infrastructure;

/// <summary>Namespace registries for unit tests.</summary>
public static class TestNamespaces
{
    /// <summary>"chat": history 100, presence on; "small": history 3; "nohistory"; "tiny": buffer of 4 messages; "long": history 10,000.</summary>
    public static NamespaceRegistry Create(Action<BrokerOptions>? configure = null)
    {
        var options = new BrokerOptions();
        options.Namespaces["chat"] = new NamespaceOptions { HistorySize = 100, Presence = true, Subscribe = Permission.Anyone, Publish = Permission.Anyone };
        options.Namespaces["small"] = new NamespaceOptions { HistorySize = 3 };
        options.Namespaces["nohistory"] = new NamespaceOptions();
        options.Namespaces["tiny"] = new NamespaceOptions { HistorySize = 100, BufferMessages = 4 };
        options.Namespaces["long"] = new NamespaceOptions { HistorySize = 10_000 };
        configure?.Invoke(options);
        return new NamespaceRegistry(options);
    }
}
