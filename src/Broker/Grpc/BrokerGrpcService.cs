using Broker.Core;
using Broker.Core.Handlers;
using Broker.Engines;
using Broker.Grpc.Transport;
using Broker.Lifecycle;
using Broker.GrpcTransport;
using Broker.Sessions;
using Broker.Diagnostics;
using Broker.V1;
using Broker.WebSockets;
using Microsoft.Extensions.Options;

namespace Broker.Grpc;

/// <summary>
/// The <c>broker.v1.Broker</c> service (PROTOCOL.md, "gRPC transport"): the backend half of the
/// product. Partial files hold the RPCs: <c>.Publish</c> (Publish, PublishStream), <c>.Subscribe</c>,
/// <c>.Handle</c>, <c>.Sessions</c> (IssueTicket, Disconnect), <c>.Channels</c> (History, Presence).
/// </summary>
internal sealed partial class BrokerGrpcService
{
    private readonly Hub _hub;
    private readonly NamespaceRegistry _namespaces;
    private readonly HandlerRegistry _handlers;
    private readonly TicketService _tickets;
    private readonly WebSocketConnectionRegistry _connections;
    private readonly ApiKeyAuthenticator _auth;
    private readonly BrokerMetrics _metrics;
    private readonly DrainState _drain;
    private readonly GrpcServiceOptions _options;
    private readonly ILogger _logger;
    private readonly int _maxDataBytes;

    public BrokerGrpcService(
        Hub hub,
        NamespaceRegistry namespaces,
        HandlerRegistry handlers,
        TicketService tickets,
        WebSocketConnectionRegistry connections,
        ApiKeyAuthenticator auth,
        BrokerMetrics metrics,
        DrainState drain,
        IOptions<GrpcServiceOptions> options,
        IOptions<BrokerOptions> brokerOptions,
        ILogger<BrokerGrpcService> logger)
    {
        _hub = hub;
        _namespaces = namespaces;
        _handlers = handlers;
        _tickets = tickets;
        _connections = connections;
        _auth = auth;
        _metrics = metrics;
        _drain = drain;
        _options = options.Value;
        _logger = logger;
        _maxDataBytes = brokerOptions.Value.MaxMessageBytes;
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
    /// A channel a backend may use: a valid name (personal channels included: that is how a backend
    /// reaches a session or a user) in a configured namespace. The failure as (status, broker code, message).
    /// </summary>
    private Failure? CheckChannel(string channel, out NamespacePolicy? policy)
    {
        policy = null;
        if (ChannelNames.Classify(channel) == ChannelKind.Invalid)
        {
            return new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, $"'{ChannelNames.Shorten(channel)}' is not a channel name.");
        }

        policy = _namespaces.Resolve(channel);
        return policy is null ? new(StatusCode.NotFound, ErrorCodes.NotFound, $"The namespace of '{channel}' is not configured.") : null;
    }

    private Failure? CheckData(ReadOnlySpan<byte> data)
    {
        if (data.Length > _maxDataBytes)
        {
            return new(StatusCode.ResourceExhausted, ErrorCodes.TooLarge, $"'data' is over {_maxDataBytes} bytes.");
        }

        return JsonValue.IsSingle(data) ? null : new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, "'data' must be one JSON value, UTF-8.");
    }

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


    /// <summary>A refused request: the gRPC status for a unary call, the broker's code for a stream reply.</summary>
    private sealed record Failure(StatusCode Status, string Code, string Message)
    {
        public RpcException ToException() => new(new Status(Status, Message));
    }
}
