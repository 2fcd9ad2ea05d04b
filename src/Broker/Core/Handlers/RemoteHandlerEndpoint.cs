namespace Broker.Core.Handlers;

/// <summary>
/// A handler of another node as this node's registry sees it: a call given to it is sent to that node
/// over the engine's control path (never on the caller's stack: the registry's lock is held here).
/// </summary>
internal sealed class RemoteHandlerEndpoint(HandlerRegistry registry, string node) : IHandlerEndpoint
{
    /// <summary>The node holding the handler's stream.</summary>
    public string Node => node;

    public bool TryDeliver(InboundCall call)
    {
        var holder = call.Holder!;
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.registry.SendRemoteAsync(state.node, state.holder, state.call), (registry, node, holder, call), preferLocal: false);
        return true;
    }
}
