using System.Threading.Channels;
using Broker.Core.Handlers;

namespace Broker.Grpc.Internal;

/// <summary>
/// A <c>Handle</c> stream as the registry sees it: calls are queued here and the stream's writer loop
/// sends them as <c>Inbound</c>. Unbounded because the registry already bounds what a handler holds
/// (<c>max_in_flight</c>).
/// </summary>
internal sealed class GrpcHandlerEndpoint : IHandlerEndpoint
{
    private readonly Channel<InboundCall> _calls = Channel.CreateUnbounded<InboundCall>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<InboundCall> Calls => _calls.Reader;

    public bool TryDeliver(InboundCall call) => _calls.Writer.TryWrite(call);

    public void Complete() => _calls.Writer.TryComplete();
}
