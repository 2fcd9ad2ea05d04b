using System.Net;
using Broker.Core;
using Broker.Engines;
using Broker.Sessions;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

/// <summary>
/// The client half of one browser socket (PROTOCOL.md, "Client to server"): <c>hello</c> and the
/// binding to a session, the dispatch of every later frame to the core, and the socket's subscription
/// table. The socket half (<see cref="WebSocketConnection"/>: loops, liveness, close) calls it from its
/// reader loop only, so nothing here needs a lock. Partial file <c>.Requests</c> holds the handlers.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>A connection refused by the rate limit this long without a break is closed (PROTOCOL.md).</summary>
    private static readonly TimeSpan AbuseAfter = TimeSpan.FromSeconds(5);

    private readonly WebSocketConnection _connection;
    private readonly WebSocketServices _services;
    private readonly BrokerNode _node;
    // The upgrade request, kept until hello when it passed the same-origin check: its cookie may bind a ticketless hello.
    private HttpContext? _cookieRequest;
    private readonly IPAddress? _remoteIp;
    private readonly Dictionary<string, ConnectionSubscription> _subscriptions = new(StringComparer.Ordinal);
    private int _regularSubscriptions;
    // Made at the first publish or send, full (as it would be by then had it been made at hello): most sockets only
    // subscribe, and an idle one should not hold a bucket (72 bytes).
    private PublishRateLimiter? _rate;
    private Caller? _caller;

    public ClientSession(WebSocketConnection connection, WebSocketServices services, HttpContext? cookieRequest, IPAddress? remoteIp)
    {
        _connection = connection;
        _services = services;
        _node = services.Node;
        _cookieRequest = cookieRequest;
        _remoteIp = remoteIp;
    }

    /// <summary>Who the socket belongs to, once it said hello.</summary>
    public Caller? Caller => Volatile.Read(ref _caller);

    private CancellationToken Closing => _connection.Closing;

    /// <summary>Handles one frame; the first must be <c>hello</c>.</summary>
    public async ValueTask HandleFrameAsync(ReadOnlyMemory<byte> json)
    {
        bool parsed = ClientFrameParser.TryParse(json.Span, out var frame, out var parseError);
        if (Caller is not { } caller)
        {
            // Before hello, anything else ends the socket: error unauthorized, close 1008.
            if (!parsed || frame.Type != ClientFrameType.Hello)
            {
                _connection.Violation(WebSocketCloseCodes.Policy, "a frame before hello", ServerFrames.Error(frame.Id, ErrorCodes.Unauthorized, "The first frame must be hello."));
                return;
            }

            await HelloAsync(frame);
            return;
        }

        if (!parsed)
        {
            BadRequest(frame.Id, parseError!);
            return;
        }

        try
        {
            await DispatchAsync(frame, caller);
        }
        catch (OperationCanceledException) when (Closing.IsCancellationRequested)
        {
            // The socket is closing; the request dies with it.
        }
        catch (Exception exception)
        {
            WebSocketLog.RequestFault(_services.Logger, _connection.ConnectionId, frame.Type.ToString(), exception);
            _connection.EnqueueReply(ServerFrames.Error(frame.Id, ErrorCodes.Internal, "The broker failed to handle the request."));
        }
    }

    /// <summary>Ends every subscription (the socket closed): what was still queued counts as dropped for <paramref name="reason"/>.</summary>
    public async ValueTask CloseAsync(Diagnostics.DropReason reason)
    {
        foreach (var subscription in _subscriptions.Values)
        {
            await RemoveSubscriptionAsync(subscription, reason);
        }

        _subscriptions.Clear();
    }

    private ValueTask DispatchAsync(ClientFrame frame, Caller caller)
    {
        switch (frame.Type)
        {
            case ClientFrameType.Hello:
                BadRequest(frame.Id, "hello was already said on this socket; it comes once, first.");
                break;
            case ClientFrameType.Subscribe:
                return SubscribeAsync(frame.Id, frame.Channel, frame.Since, fromResume: false);
            case ClientFrameType.Unsubscribe:
                return UnsubscribeAsync(frame);
            case ClientFrameType.Publish:
                return PublishAsync(frame, caller);
            case ClientFrameType.Send:
                Send(frame, caller);
                break;
            case ClientFrameType.History:
                return HistoryAsync(frame, caller);
            case ClientFrameType.Presence:
                return PresenceAsync(frame, caller);
            case ClientFrameType.Ping:
                _connection.EnqueueReply(ServerFrames.Pong);
                break;
            case ClientFrameType.Pong:
                break;  // its arrival already counted as a sign of life
            default:
                BadRequest(frame.Id, $"Unknown frame type '{ChannelNames.Shorten(frame.TypeText ?? "")}'; the types are hello, subscribe, unsubscribe, publish, send, history, presence, ping and pong.");
                break;
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask HelloAsync(ClientFrame hello)
    {
        _connection.HelloReceived();
        // The brute-force guard: an address that failed too often this minute is refused before its ticket is
        // looked at, so guessing costs the broker no store round trip.
        if (_services.HelloGuard.IsBlocked(_remoteIp))
        {
            _services.Metrics.RecordLimitRefused(Diagnostics.LimitKind.FailedHellos);
            _connection.Violation(WebSocketCloseCodes.Policy, "too many refused hellos",
                ServerFrames.Error(hello.Id, ErrorCodes.RateLimited, "Too many refused hellos from this address; try again in a minute."));
            return;
        }

        Caller caller;
        List<SubscriptionFeed> personal;
        try
        {
            if (await IdentifyAsync(hello) is not { } who)
            {
                return;  // refused, and told
            }

            caller = Core.Caller.Browser(new ClientInfo(who.SessionId, who.UserId, _connection.ConnectionId));

            // Personal channels first: welcome lists them with their positions.
            personal = new List<SubscriptionFeed>(2) { await SubscribePersonalAsync(caller, ChannelNames.ForSession(who.SessionId), hello.Resume) };
            if (who.UserId is not null)
            {
                personal.Add(await SubscribePersonalAsync(caller, ChannelNames.ForUser(who.UserId), hello.Resume));
            }
        }
        catch (Exception e) when (e is SessionStoreUnavailableException or EngineUnavailableException)
        {
            // Redis is down or not yet reachable (the store or the engine logged it): a transient refusal, not a fault.
            HelloUnavailable(hello.Id);
            return;
        }
        finally
        {
            _cookieRequest = null;  // read once: the socket does not hold on to its upgrade request
        }

        Volatile.Write(ref _caller, caller);
        _connection.Bound(caller.Client!);

        var listed = new SubscriptionStart[personal.Count];
        for (int i = 0; i < personal.Count; i++)
        {
            listed[i] = personal[i].Start;
        }

        _connection.EnqueueReply(ServerFrames.Welcome(hello.Id, _connection.ConnectionId, caller.Client!, _services.Options.PingInterval.TotalSeconds, _node.MaxDataBytes, listed));
        foreach (var feed in personal)
        {
            _connection.StartFeed(feed, id: null);
        }

        if (hello.Resume is { } resume)
        {
            foreach (var (channel, position) in resume)
            {
                if (_subscriptions.TryGetValue(channel, out var existing) && existing.Personal)
                {
                    continue;  // resumed above, with its position
                }

                // Backpressure per entry, as per frame: a resume naming thousands of channels gets an answer for each.
                await _connection.WaitForRepliesAsync();
                await SubscribeAsync(null, channel, position, fromResume: true);
            }
        }

        _connection.StartPings();
    }

    /// <summary>
    /// Who the hello speaks for: the ticket's session, else the cookie's, else a new anonymous one when allowed.
    /// <see langword="null"/> when the hello was refused (and told so here).
    /// </summary>
    /// <exception cref="SessionStoreUnavailableException">The session or ticket store cannot answer now.</exception>
    private async ValueTask<(string SessionId, string? UserId)?> IdentifyAsync(ClientFrame hello)
    {
        if (hello.Ticket is { } ticket)
        {
            // Asynchronously: a cluster's ticket store is remote, and a blocked reader loop per hello
            // starves the thread pool under a burst of connections.
            if (await _services.Tickets.TryConsumeAsync(ticket, _remoteIp, Closing) is not { } grant)
            {
                RefuseHello(hello.Id, "The ticket is unknown, used, expired, or bound to another address.", ticketRefused: true);
                return null;
            }

            // The session may have ended since the ticket was issued (expired, store full and swept): a socket
            // must not live on a session the store no longer knows. This also marks the session used.
            if (!await _services.SessionStore.TouchAsync(grant.SessionId, Closing))
            {
                RefuseHello(hello.Id, "The ticket's session has ended.", ticketRefused: false);
                return null;
            }

            return (grant.SessionId, grant.UserId);
        }

        if (_cookieRequest is { } request && await _services.Sessions.ResolveAsync(request, Closing) is { } session)
        {
            return (session.SessionId, session.UserId);
        }

        if (_services.AllowAnonymous)
        {
            try
            {
                var created = await _services.Sessions.CreateSessionAsync(cancellationToken: Closing);
                return (created.SessionId, null);
            }
            catch (SessionLimitExceededException)
            {
                // Counted and logged (once a minute) by the resolver; the socket cannot go on without a session.
                _connection.Violation(WebSocketCloseCodes.Policy, "session limit reached",
                    ServerFrames.Error(hello.Id, ErrorCodes.LimitExceeded, "The broker holds as many sessions as it may; try again later."));
                return null;
            }
        }

        RefuseHello(hello.Id, "No ticket and no same-origin session cookie.", ticketRefused: false);
        return null;
    }

    /// <summary>
    /// The hello needed Redis (the ticket or session store, or the engine for the personal channels) and Redis cannot
    /// answer: <c>error</c> <c>unavailable</c>, then close 1011, counted in <c>broker.engine.unavailable</c> (operation
    /// <c>hello</c>). Not 1008: a client must not take this for a refused credential (broker.js gives up on a 1008
    /// before <c>welcome</c>), it reconnects with backoff; nor a failed hello for the address's guard.
    /// </summary>
    private void HelloUnavailable(long? id)
    {
        _services.Metrics.RecordEngineUnavailable("hello");
        _connection.CloseWithError(WebSocketCloseCodes.InternalError, "hello unavailable: Redis unreachable",
            ServerFrames.Error(id, ErrorCodes.Unavailable, "The broker cannot reach its session store or engine; reconnect shortly."));
    }

    /// <summary>
    /// Refuses a hello: <c>unauthorized</c>, close 1008. Only a refused ticket counts toward the address's guard:
    /// a hello with no credentials costs no store round trip and guesses nothing, and after a restart of a broker
    /// with in-memory sessions every page behind one office NAT sends exactly that, once, before it gets a new
    /// session; blocking the NAT for it would lock out the office.
    /// </summary>
    private void RefuseHello(long? id, string reason, bool ticketRefused)
    {
        if (_services.Gates.HelloRefused.TryPass(out var count))
        {
            WebSocketLog.HelloRefused(_services.Logger, _connection.ConnectionId, _remoteIp, reason, count);
        }

        if (ticketRefused && _services.HelloGuard.RecordFailure(_remoteIp) && _services.Gates.HelloBlocked.TryPass(out var blocked))
        {
            WebSocketLog.FailedHellosBlocked(_services.Logger, _remoteIp, _services.Options.MaxFailedHellosPerIp, blocked);
        }

        _connection.Violation(WebSocketCloseCodes.Policy, "hello refused", ServerFrames.Error(id, ErrorCodes.Unauthorized, reason));
    }

    private async ValueTask<SubscriptionFeed> SubscribePersonalAsync(Caller caller, string channel, Dictionary<string, StreamPosition>? resume)
    {
        StreamPosition? since = resume is not null && resume.TryGetValue(channel, out var position) ? position : null;
        var feed = await _node.SubscribePersonalAsync(caller, channel, since, _connection, Closing);
        _subscriptions[channel] = new ConnectionSubscription(feed, Personal: true);
        return feed;
    }

    /// <summary>A connection refused publishes and sends over the rate; refused for long, it is closed (1008).</summary>
    private bool TakeToken(long? id)
    {
        _rate ??= new PublishRateLimiter(_services.Options.PublishRate, _services.Time);
        if (_rate.TryTake())
        {
            return true;
        }

        Refuse(id, new BrokerError(ErrorCode.RateLimited, $"Over {_services.Options.PublishRate} publishes and sends per second (bursts up to {2 * _services.Options.PublishRate}); slow down."));
        if (_rate.RefusingFor > AbuseAfter)
        {
            _connection.Violation(WebSocketCloseCodes.Policy, "rate limit exceeded for over 5 s");
        }

        return false;
    }

    private void BadRequest(long? id, string message, string? about = null) => Refuse(id, new BrokerError(ErrorCode.BadRequest, message, about));

    /// <summary>Answers a refused request with its <c>error</c>; a bad request is logged as the client's fault.</summary>
    private void Refuse(long? id, BrokerError error)
    {
        if (error.Code == ErrorCode.BadRequest)
        {
            WebSocketLog.BadFrame(_services.Logger, _connection.ConnectionId, error.Name, error.Message);
        }

        _connection.EnqueueReply(ServerFrames.Error(id, error));
    }
}
