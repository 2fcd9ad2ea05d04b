using Broker.Core;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Core;

public class NamespaceRegistryTests
{
    [Fact]
    public void ResolvesConfiguredNamespaces()
    {
        var registry = TestNamespaces.Create();
        Assert.Equal("chat", registry.Resolve("chat:lobby")!.Name);
        Assert.Equal(100, registry.Resolve("chat:lobby")!.HistorySize);
        Assert.True(registry.Resolve("chat:a:b")!.Presence);
    }

    [Fact]
    public void ChannelsWithoutNamespaceUseDefault()
    {
        var registry = TestNamespaces.Create(o => o.Namespaces["default"] = new NamespaceOptions { HistorySize = 7 });
        Assert.Same(registry.Default, registry.Resolve("lobby"));
        Assert.Equal(7, registry.Resolve("lobby")!.HistorySize);
    }

    [Fact]
    public void DefaultNamespaceHasProtocolDefaultsWhenNotConfigured()
    {
        var registry = new NamespaceRegistry(new BrokerOptions());
        var policy = registry.Default;
        Assert.Equal(0, policy.HistorySize);
        Assert.Equal(TimeSpan.FromMinutes(5), policy.HistoryTtl);
        Assert.Equal(Permission.Authenticated, policy.Subscribe);
        Assert.Equal(Permission.None, policy.Publish);
        Assert.False(policy.Presence);
        Assert.Equal(1024, policy.BufferMessages);
        Assert.Equal(1_048_576, policy.BufferBytes);
        Assert.Equal(OverflowPolicy.DropOldest, policy.Overflow);
    }

    [Fact]
    public void UnknownNamespaceResolvesToNull() => Assert.Null(TestNamespaces.Create().Resolve("nope:x"));

    [Fact]
    public void PersonalNamespacesAlwaysExist()
    {
        var registry = new NamespaceRegistry(new BrokerOptions());
        Assert.Equal("$session", registry.Resolve("$session:abc")!.Name);
        Assert.Equal("$user", registry.Resolve("$user:u1")!.Name);
    }

    [Theory]
    [InlineData(Permission.Anyone, false, true)]
    [InlineData(Permission.Anyone, true, true)]
    [InlineData(Permission.Authenticated, false, false)]
    [InlineData(Permission.Authenticated, true, true)]
    [InlineData(Permission.None, true, false)]
    public void PermissionRules(Permission permission, bool hasUser, bool allowed) => Assert.Equal(allowed, NamespacePolicy.Allows(permission, hasUser));
}
