using Broker.Core.Handlers;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Grpc.Transport;
using Broker.Grpc;
using Broker.GrpcTransport;
using Broker.Lifecycle.Internal;
using Broker.Lifecycle;
using Broker.Sessions;
using Broker.V1;
using Microsoft.Extensions.Options;

namespace Broker.Grpc.Internal;

/// <summary>
/// The <c>broker.v1.Broker</c> service (PROTOCOL.md, "gRPC transport"): the backend half of the
/// product. Partial files hold the RPCs: <c>.Publish</c> (Publish, PublishStream), <c>.Subscribe</c>,
/// <c>.Handle</c>, <c>.Sessions</c> (IssueTicket, Disconnect), <c>.Channels</c> (History, Presence).
/// </summary>
internal sealed partial class BrokerGrpcService
{
    private readonly BrokerNode _node;
    private readonly HandlerRegistry _handlers;
    private readonly TicketService _tickets;
    private readonly ApiKeyAuthenticator _auth;
    private readonly BrokerMetrics _metrics;
    private readonly DrainState _drain;
    private readonly GrpcServiceOptions _options;
    private readonly ILogger _logger;

    public BrokerGrpcService(
        BrokerNode node,
        HandlerRegistry handlers,
        TicketService tickets,
        ApiKeyAuthenticator auth,
        BrokerMetrics metrics,
        DrainState drain,
        IOptions<GrpcServiceOptions> options,
        ILogger<BrokerGrpcService> logger)
    {
        _node = node;
        _handlers = handlers;
        _tickets = tickets;
        _auth = auth;
        _metrics = metrics;
        _drain = drain;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The service's methods, for the transport.</summary>
    public ServerServiceDefinition Bind() => ServerServiceDefinition.CreateBuilder()
        .AddMethod(BrokerMethods.Publish, PublishAsync)
        .AddMethod(BrokerMethods.PublishStream, PublishStreamAsync)
        .AddMethod(BrokerMethods.Subscribe, SubscribeAsync)
        .AddMethod(BrokerMethods.Handle, HandleAsync)
        .AddMethod(BrokerMethods.IssueTicket, IssueTicketAsync)
        .AddMethod(BrokerMethods.Disconnect, DisconnectAsync)
        .AddMethod(BrokerMethods.History, HistoryAsync)
        .AddMethod(BrokerMethods.Presence, PresenceAsync)
        .Build();

    /// <summary>
    /// Cancels a streaming call when the broker drains (once per call, not per message); the method then
    /// ends with <see cref="Draining"/>. Dispose the registration before the call ends.
    /// </summary>
    private CancellationTokenRegistration CancelOnDrain(ServerCallContext context) =>
        context is HttpServerCallContext call
            ? _drain.Token.UnsafeRegister(static c => ((HttpServerCallContext)c!).CancelByServer(), call)
            : default;

    /// <summary>True when <paramref name="context"/> was cancelled by the drain, not by its client or deadline.</summary>
    private bool EndedByDrain(ServerCallContext context) =>
        _drain.IsDraining && context is not HttpServerCallContext { ClientAborted: true } and not HttpServerCallContext { DeadlineExpired: true };

    /// <summary>The status a stream ends with when the broker drains (PROTOCOL.md: UNAVAILABLE, so the client goes elsewhere).</summary>
    private static RpcException Draining() => new(new Status(StatusCode.Unavailable, DrainMiddleware.ShuttingDown));
}
