using Broker.Core.Handlers;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Lifecycle;
using Broker.Sessions;
using Broker.WebSockets;
using Microsoft.Extensions.Options;

namespace Broker.WebSockets.Internal;

/// <summary>What every browser connection needs, resolved once and shared: keeps a connection's constructor small.</summary>
internal sealed class WebSocketServices(
    BrokerNode node,
    TicketService tickets,
    SessionResolver sessions,
    ISessionStore sessionStore,
    OriginPolicy origins,
    ConnectionRegistry connections,
    BrokerMetrics metrics,
    DrainState drain,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    IOptions<WebSocketTransportOptions> options,
    IOptions<BrokerSessionOptions> sessionOptions)
{
    public BrokerNode Node { get; } = node;

    public TicketService Tickets { get; } = tickets;

    public SessionResolver Sessions { get; } = sessions;

    public ISessionStore SessionStore { get; } = sessionStore;

    public OriginPolicy Origins { get; } = origins;

    public ConnectionRegistry Connections { get; } = connections;

    public BrokerMetrics Metrics { get; } = metrics;

    public DrainState Drain { get; } = drain;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = loggerFactory.CreateLogger("Broker.WebSockets");

    public WebSocketTransportOptions Options { get; } = options.Value;

    public bool AllowAnonymous { get; } = sessionOptions.Value.AllowAnonymous;

    /// <summary>Connections in all and per address (<c>MaxConnections</c>, <c>MaxConnectionsPerIp</c>).</summary>
    public ConnectionLimiter Limiter { get; } = new(options.Value.MaxConnections, options.Value.MaxConnectionsPerIp);

    /// <summary>Refused hellos per address (<c>MaxFailedHellosPerIp</c>).</summary>
    public HelloGuard HelloGuard { get; } = new(options.Value.MaxFailedHellosPerIp, time);

    /// <summary>
    /// Log gates, one per cause: a refusal a client can repeat at will (an upgrade over a limit, a refused hello)
    /// is logged once a minute per cause with how many there were, not once per attempt.
    /// </summary>
    public LogGates Gates { get; } = new(time);
}
