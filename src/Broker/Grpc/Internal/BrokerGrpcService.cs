using Broker.Core;
using Broker.Core.Handlers;
using Broker.Diagnostics;
using Broker.Lifecycle;
using Broker.Sessions;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Broker.Grpc.Internal;

/// <summary>
/// The <c>broker.v1.Broker</c> service (PROTOCOL.md, "gRPC transport"): the backend half of the
/// product. Partial files hold the RPCs: <c>.Publish</c> (Publish, PublishStream), <c>.Subscribe</c>,
/// <c>.Handle</c>, <c>.Sessions</c> (IssueTicket, Disconnect), <c>.Channels</c> (History, Presence);
/// <c>.MethodProvider</c> binds them for Grpc.AspNetCore. What every call checks first (API key, drain)
/// is <see cref="BrokerCallInterceptor"/>'s.
/// </summary>
internal sealed partial class BrokerGrpcService
{
    private readonly BrokerNode _node;
    private readonly HandlerRegistry _handlers;
    private readonly TicketService _tickets;
    private readonly BrokerMetrics _metrics;
    private readonly DrainState _drain;
    private readonly GrpcServiceOptions _options;
    private readonly ILogger _logger;

    public BrokerGrpcService(
        BrokerNode node,
        HandlerRegistry handlers,
        TicketService tickets,
        BrokerMetrics metrics,
        DrainState drain,
        IOptions<GrpcServiceOptions> options,
        ILogger<BrokerGrpcService> logger)
    {
        _node = node;
        _handlers = handlers;
        _tickets = tickets;
        _metrics = metrics;
        _drain = drain;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>
    /// A stream's token: the call's (client cancel, deadline) and the drain's, linked once per stream. Use it to
    /// read and wait, never to write: Grpc.AspNetCore resets the stream when a write's token is cancelled, and the
    /// client would see CANCELLED instead of the UNAVAILABLE the drain owes it (<see cref="BrokerCallInterceptor"/>).
    /// </summary>
    private CancellationTokenSource LinkDrain(ServerCallContext context) =>
        CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _drain.Token);
}
