namespace Broker.Core.Handlers;

/// <summary>
/// The transport side of one handler: carries calls to it (the gRPC <c>Handle</c> stream writes them
/// as <c>Inbound</c> messages). Replies come back through <see cref="HandlerRegistry.Complete"/>.
/// </summary>
public interface IHandlerEndpoint
{
    /// <summary>Queues <paramref name="call"/> for the handler without waiting; false when the endpoint is closing.</summary>
    bool TryDeliver(InboundCall call);
}
