using Broker.Core.Handlers;
using Broker.Core;
using Microsoft.Extensions.Options;

namespace Broker.Benchmarks;

/// <summary>The core's front door over a benchmark's hub, with default options.</summary>
internal static class BenchmarkNode
{
    public static BrokerNode Create(Hub hub, NamespaceRegistry namespaces) =>
        new(hub, namespaces, new HandlerRegistry(Options.Create(new HandlerOptions()), TimeProvider.System), new ConnectionRegistry(), Options.Create(new BrokerOptions()));
}
