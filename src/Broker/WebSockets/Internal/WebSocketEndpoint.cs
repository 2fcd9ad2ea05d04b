using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Broker.Diagnostics;
using Broker.Sessions;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// <c>GET /ws</c>: refuses a foreign <c>Origin</c> with 403 before the upgrade, binds the session cookie
/// when the upgrade is same-origin, accepts <c>broker.v1.json</c> when offered, and runs the connection.
/// </summary>
internal static class WebSocketEndpoint
{
    /// <summary>The subprotocol the broker speaks.</summary>
    public const string SubProtocol = "broker.v1.json";

    /// <summary>
    /// <c>Retry-After</c> of an upgrade refused by a connection limit, in seconds: long enough to spread a herd of
    /// reconnecting clients, short enough that a user behind a refused upgrade is not kept waiting long.
    /// </summary>
    private const string RetryAfterSeconds = "5";

    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices.GetRequiredService<WebSocketServices>();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            services.Metrics.RecordUpgradeRefused("not_websocket");
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("A WebSocket upgrade is expected here.");
            return;
        }

        // Draining: the client should go to another broker (PROTOCOL.md, "Running the broker").
        if (services.Drain.IsDraining)
        {
            WebSocketLog.UpgradeRefused(services.Logger, "draining", 1);
            services.Metrics.RecordUpgradeRefused("draining");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        // PROTOCOL.md refuses an upgrade only for its Origin; a page of another allowed site may connect
        // with a ticket its backend minted.
        if (services.Origins.Evaluate(context.Request, checkFetchSite: false) != OriginDecision.Allowed)
        {
            // Once a minute with a count: a script can send foreign-origin upgrades as fast as it likes.
            if (services.Gates.OriginRefused.TryPass(out var refused))
            {
                WebSocketLog.UpgradeRefused(services.Logger, "origin not allowed", refused);
            }

            services.Metrics.RecordUpgradeRefused("origin");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        // Connection limits, before any work for the socket: refused with 503 (PROTOCOL.md's refused upgrade) and
        // a hint to come back, counted per limit and logged once a minute per limit.
        var address = context.Connection.RemoteIpAddress;
        if (services.Limiter.TryAcquire(address) is { } limit)
        {
            services.Metrics.RecordLimitRefused(limit);
            var (gate, name, max) = limit == LimitKind.Connections
                ? (services.Gates.Connections, "Broker:WebSocket:MaxConnections", services.Options.MaxConnections)
                : (services.Gates.ConnectionsPerIp, "Broker:WebSocket:MaxConnectionsPerIp", services.Options.MaxConnectionsPerIp);
            if (gate.TryPass(out var count))
            {
                WebSocketLog.LimitReached(services.Logger, name, max, address, count);
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
            return;
        }

        try
        {
            await AcceptAsync(context, services);
        }
        finally
        {
            services.Limiter.Release(address);
        }
    }

    private static async Task AcceptAsync(HttpContext context, WebSocketServices services)
    {
        // The cookie binds a ticketless hello only when the upgrade passes the full same-origin check. It is looked up
        // at hello, not here: a hello with a ticket needs no lookup, and a store that is down is answered in the
        // protocol (error unavailable) rather than with an upgrade the browser cannot read the status of.
        var cookieRequest = services.Origins.Evaluate(context.Request, checkFetchSite: true) == OriginDecision.Allowed ? context : null;

        var accept = new WebSocketAcceptContext
        {
            SubProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol) ? SubProtocol : null,
            // The protocol's own ping/pong proves liveness; RFC 6455 keep-alive frames would only add traffic.
            KeepAliveInterval = TimeSpan.Zero,
        };
        using var socket = await context.WebSockets.AcceptWebSocketAsync(accept);
        // Kestrel keeps its minimum response data rate on an upgraded connection, and books every write against it
        // (an interface call and a lock in its timeout control per send). The write deadline governs a socket that
        // stops reading (WebSocketWriter, Broker:WebSocket:WriteTimeout), so Kestrel's is switched off here.
        if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } responseRate)
        {
            responseRate.MinDataRate = null;
        }

        BrokerTracing.DetachLongLivedRequest();
        // The request's lifetime feature, not the HttpContext: the write deadline aborts the connection through
        // it (HttpContext.Abort does the same), and a feature held past the request cannot reach a recycled context.
        var request = context.Features.GetRequiredFeature<IHttpRequestLifetimeFeature>();
        var connection = new WebSocketConnection(socket, request, services, cookieRequest, context.Connection.RemoteIpAddress);
        await connection.RunAsync();
    }
}
