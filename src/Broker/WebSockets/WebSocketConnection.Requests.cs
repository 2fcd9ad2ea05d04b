using Broker.Core;
using Broker.Engines;
using Broker.Diagnostics;

namespace Broker.WebSockets;

public sealed partial class WebSocketConnection
{
    /// <summary>A connection refused by the rate limit this long without a break is closed (PROTOCOL.md).</summary>
    private static readonly TimeSpan AbuseAfter = TimeSpan.FromSeconds(5);

    private static readonly byte[] JsonNull = "null"u8.ToArray();

    // Owned by the reader loop (and by clean-up, after the reader loop ended): no lock.
    private readonly Dictionary<string, ConnectionSubscription> _subscriptions = new(StringComparer.Ordinal);
    private int _regularSubscriptions;
    private PublishRateLimiter? _rate;

    private async ValueTask HandleFrameAsync(ReadOnlyMemory<byte> json)
    {
        bool parsed = ClientFrameParser.TryParse(json.Span, out var frame, out var parseError);
        var client = Client;
        if (client is null)
        {
            // Before hello, anything else ends the socket: error unauthorized, close 1008.
            if (!parsed || frame.Type != ClientFrameType.Hello)
            {
                Violation(WebSocketCloseCodes.Policy, "a frame before hello", ServerFrames.Error(frame.Id, ErrorCodes.Unauthorized, "The first frame must be hello."));
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
            switch (frame.Type)
            {
                case ClientFrameType.Hello:
                    BadRequest(frame.Id, "hello was already said on this socket.");
                    break;
                case ClientFrameType.Subscribe:
                    await SubscribeAsync(frame.Id, frame.Channel, frame.Since, fromResume: false);
                    break;
                case ClientFrameType.Unsubscribe:
                    await UnsubscribeAsync(frame);
                    break;
                case ClientFrameType.Publish:
                    await PublishAsync(frame, client);
                    break;
                case ClientFrameType.Send:
                    Send(frame, client);
                    break;
                case ClientFrameType.History:
                    await HistoryAsync(frame, client);
                    break;
                case ClientFrameType.Presence:
                    await PresenceAsync(frame, client);
                    break;
                case ClientFrameType.Ping:
                    EnqueueReply(ServerFrames.Pong);
                    break;
                case ClientFrameType.Pong:
                    break;  // its arrival already counted as a sign of life
                default:
                    BadRequest(frame.Id, $"Unknown frame type '{frame.TypeText}'.");
                    break;
            }
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // The socket is closing; the request dies with it.
        }
        catch (Exception exception)
        {
            WebSocketLog.RequestFault(_services.Logger, ConnectionId, frame.Type.ToString(), exception);
            EnqueueReply(ServerFrames.Error(frame.Id, ErrorCodes.Internal, "The broker failed to handle the request."));
        }
    }

    private async ValueTask HelloAsync(ClientFrame hello)
    {
        Interlocked.Exchange(ref _helloTimer, null)?.Dispose();  // dropped, not only stopped: an idle socket should not keep a dead timer
        string sessionId;
        string? userId;
        if (hello.Ticket is { } ticket)
        {
            if (!_services.Tickets.TryConsume(ticket, _remoteIp, out var grant))
            {
                RefuseHello(hello.Id, "The ticket is unknown, used, expired, or bound to another address.");
                return;
            }

            (sessionId, userId) = (grant.SessionId, grant.UserId);
        }
        else if (_cookieSession is { } session)
        {
            (sessionId, userId) = (session.SessionId, session.UserId);
        }
        else if (_services.AllowAnonymous)
        {
            var created = await _services.Sessions.CreateSessionAsync(cancellationToken: _closing.Token);
            (sessionId, userId) = (created.SessionId, null);
        }
        else
        {
            RefuseHello(hello.Id, "No ticket and no same-origin session cookie.");
            return;
        }

        var client = new ClientInfo(sessionId, userId, ConnectionId);
        _rate = new PublishRateLimiter(_options.PublishRate, _services.Time);

        // Personal channels first: welcome lists them with their positions.
        var personal = new List<(ConnectionSubscription Subscription, SubscribeResult Result, StreamPosition? Since)>(2);
        personal.Add(await SubscribePersonalAsync(ChannelNames.ForSession(sessionId), client, hello.Resume));
        if (userId is not null)
        {
            personal.Add(await SubscribePersonalAsync(ChannelNames.ForUser(userId), client, hello.Resume));
        }

        Volatile.Write(ref _client, client);
        _services.Connections.Add(this);
        WebSocketLog.Connected(_services.Logger, ConnectionId, sessionId, userId);

        var listed = new PersonalSubscriptionInfo[personal.Count];
        for (int i = 0; i < personal.Count; i++)
        {
            listed[i] = new(personal[i].Subscription.Channel, personal[i].Result.Position, personal[i].Result.Recovered);
        }

        EnqueueReply(ServerFrames.Welcome(hello.Id, ConnectionId, client, _options.PingInterval.TotalSeconds, _services.MaxDataBytes, listed));
        foreach (var (subscription, result, since) in personal)
        {
            Activate(subscription, since, result);
        }

        if (hello.Resume is { } resume)
        {
            foreach (var (channel, position) in resume)
            {
                if (_subscriptions.TryGetValue(channel, out var existing) && existing.Personal)
                {
                    continue;  // resumed above, with its position
                }

                await SubscribeAsync(null, channel, position, fromResume: true);
            }
        }

        StartPings();
    }

    private void RefuseHello(long? id, string reason)
    {
        WebSocketLog.HelloRefused(_services.Logger, ConnectionId, reason);
        Violation(WebSocketCloseCodes.Policy, "hello refused", ServerFrames.Error(id, ErrorCodes.Unauthorized, reason));
    }

    private async ValueTask<(ConnectionSubscription, SubscribeResult, StreamPosition?)> SubscribePersonalAsync(string channel, ClientInfo client, Dictionary<string, StreamPosition>? resume)
    {
        var policy = _services.Namespaces.Resolve(channel)!;
        var subscription = NewSubscription(channel, policy, client, personal: true);
        StreamPosition? since = resume is not null && resume.TryGetValue(channel, out var position) ? position : null;
        var result = await _services.Hub.SubscribeAsync(subscription.Subscription, since, _closing.Token);
        _subscriptions[channel] = subscription;
        return (subscription, result, since);
    }

    /// <summary>A <c>subscribe</c>, or one entry of <c>hello.resume</c> (errors then name the channel, as there is no id).</summary>
    private async ValueTask SubscribeAsync(long? id, string? channel, StreamPosition? since, bool fromResume)
    {
        var client = Client!;
        string? about = fromResume ? channel : null;
        if (!CheckChannel(id, channel, about, out var policy, forPublish: false))
        {
            return;
        }

        if (_subscriptions.ContainsKey(channel!))
        {
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.AlreadySubscribed, $"Already subscribed to '{channel}'.", about));
            return;
        }

        if (_regularSubscriptions >= _options.MaxSubscriptions)
        {
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.LimitExceeded, $"At most {_options.MaxSubscriptions} subscriptions per connection.", about));
            return;
        }

        if (!_services.Hub.Engine.IsHealthy)
        {
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.Unavailable, "The engine is unreachable; try again.", about));
            return;
        }

        var subscription = NewSubscription(channel!, policy!, client, personal: false);
        _subscriptions[channel!] = subscription;
        _regularSubscriptions++;
        SubscribeResult result;
        try
        {
            result = await _services.Hub.SubscribeAsync(subscription.Subscription, since, _closing.Token);
        }
        catch
        {
            _subscriptions.Remove(channel!);
            _regularSubscriptions--;
            throw;
        }

        EnqueueReply(ServerFrames.Subscribed(id, channel!, result.Position, result.Recovered));
        Activate(subscription, since, result);
        if (policy!.Presence)
        {
            await _services.Hub.JoinAsync(channel!, client, _closing.Token);
        }
    }

    private async ValueTask UnsubscribeAsync(ClientFrame frame)
    {
        var channel = frame.Channel;
        if (channel is null || ChannelNames.Classify(channel) == ChannelKind.Invalid)
        {
            BadRequest(frame.Id, channel is null ? "'channel' is required." : $"'{channel}' is not a channel name.");
            return;
        }

        if (!_subscriptions.TryGetValue(channel, out var subscription) || subscription.Personal)
        {
            var code = ChannelNames.Classify(channel) == ChannelKind.Regular ? ErrorCodes.NotSubscribed : ErrorCodes.Forbidden;
            EnqueueReply(ServerFrames.Error(frame.Id, code, code == ErrorCodes.Forbidden ? "Personal channels cannot be unsubscribed." : $"Not subscribed to '{channel}'."));
            return;
        }

        _subscriptions.Remove(channel);
        await RemoveSubscriptionAsync(subscription, reason: null);
        EnqueueReply(ServerFrames.Unsubscribed(frame.Id, channel));
    }

    private async ValueTask PublishAsync(ClientFrame frame, ClientInfo client)
    {
        if (!TakeToken(frame.Id) || !CheckChannel(frame.Id, frame.Channel, null, out _, forPublish: true)
            || !CheckEvent(frame.Id, frame.Event ?? ChannelNames.DefaultEvent) || !CheckData(frame.Id, frame.Data, required: true))
        {
            return;
        }

        if (!_services.Hub.Engine.IsHealthy)
        {
            EnqueueReply(ServerFrames.Error(frame.Id, ErrorCodes.Unavailable, "The engine is unreachable; try again."));
            return;
        }

        var result = await _services.Hub.PublishAsync(new PublishCommand(frame.Channel!, frame.Event ?? ChannelNames.DefaultEvent, frame.Data, client), _closing.Token);
        if (frame.Id is { } id)
        {
            EnqueueReply(ServerFrames.Ack(id, frame.Channel!, result.Position));
        }
    }

    private void Send(ClientFrame frame, ClientInfo client)
    {
        if (!TakeToken(frame.Id))
        {
            return;
        }

        if (frame.Id is not { } id)
        {
            BadRequest(null, "A send needs an 'id' for its reply.");
            return;
        }

        if (frame.Event is null)
        {
            BadRequest(id, "'event' is required.");
            return;
        }

        if (!CheckEvent(id, frame.Event) || !CheckData(id, frame.Data, required: false))
        {
            return;
        }

        // Not awaited: the reader goes on while the handler works; the reply is queued when it comes.
        _ = CompleteSendAsync(id, frame.Event, frame.Data ?? JsonNull, client);
    }

    private async Task CompleteSendAsync(long id, string eventName, byte[] data, ClientInfo client)
    {
        try
        {
            var reply = await _services.Handlers.SendAsync(eventName, data, client, _closing.Token);
            if (reply.IsError)
            {
                EnqueueReply(ServerFrames.Error(id, reply.ErrorCode!, reply.ErrorMessage ?? reply.ErrorCode!));
            }
            else if (!reply.Data.IsEmpty && !JsonValue.IsSingle(reply.Data.Span))
            {
                EnqueueReply(ServerFrames.Error(id, ErrorCodes.Internal, "The handler's reply is not JSON."));
            }
            else
            {
                EnqueueReply(ServerFrames.Reply(id, reply.Data));
            }
        }
        catch (OperationCanceledException)
        {
            // The socket closed while the handler worked.
        }
        catch (Exception exception)
        {
            WebSocketLog.RequestFault(_services.Logger, ConnectionId, "send", exception);
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.Internal, "The broker failed to handle the send."));
        }
    }

    private async ValueTask HistoryAsync(ClientFrame frame, ClientInfo client)
    {
        var channel = frame.Channel;
        if (!IsOwnPersonal(channel, client) && !CheckChannel(frame.Id, channel, null, out _, forPublish: false))
        {
            return;
        }

        var result = await _services.Hub.ReadHistoryAsync(channel!, new HistoryQuery(frame.Since, frame.Limit), _closing.Token);
        EnqueueReply(ServerFrames.History(frame.Id, channel!, result));
    }

    private async ValueTask PresenceAsync(ClientFrame frame, ClientInfo client)
    {
        if (!CheckChannel(frame.Id, frame.Channel, null, out var policy, forPublish: false))
        {
            return;
        }

        if (!policy!.Presence)
        {
            EnqueueReply(ServerFrames.Error(frame.Id, ErrorCodes.NotFound, $"Presence is not kept in namespace '{policy.Name}'."));
            return;
        }

        var members = await _services.Hub.GetPresenceAsync(frame.Channel!, _closing.Token);
        EnqueueReply(ServerFrames.Presence(frame.Id, frame.Channel!, members));
    }

    /// <summary>
    /// The checks every channel request shares: a valid name, not personal (<c>forbidden</c>), a
    /// configured namespace (<c>not_found</c>), and the namespace's permission for this session.
    /// </summary>
    private bool CheckChannel(long? id, string? channel, string? about, out NamespacePolicy? policy, bool forPublish)
    {
        policy = null;
        if (channel is null)
        {
            BadRequest(id, "'channel' is required.", about);
            return false;
        }

        switch (ChannelNames.Classify(channel))
        {
            case ChannelKind.Invalid:
                BadRequest(id, $"'{ChannelNames.Shorten(channel)}' is not a channel name.", about);
                return false;
            case ChannelKind.Session or ChannelKind.User:
                EnqueueReply(ServerFrames.Error(id, ErrorCodes.Forbidden, "Personal channels are not open to browsers.", about));
                return false;
        }

        policy = _services.Namespaces.Resolve(channel);
        if (policy is null)
        {
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.NotFound, $"The namespace of '{channel}' is not configured.", about));
            return false;
        }

        bool hasUser = Client!.UserId is not null;
        if (!NamespacePolicy.Allows(forPublish ? policy.Publish : policy.Subscribe, hasUser))
        {
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.Forbidden, $"Namespace '{policy.Name}' does not let this session {(forPublish ? "publish" : "subscribe")}.", about));
            return false;
        }

        return true;
    }

    private bool CheckEvent(long? id, string eventName)
    {
        if (ChannelNames.IsValidEvent(eventName))
        {
            return true;
        }

        BadRequest(id, $"'{ChannelNames.Shorten(eventName)}' is not an event name.");
        return false;
    }

    private bool CheckData(long? id, byte[]? data, bool required)
    {
        if (data is null)
        {
            if (required)
            {
                BadRequest(id, "'data' is required.");
            }

            return !required;
        }

        if (data.Length > _services.MaxDataBytes)
        {
            EnqueueReply(ServerFrames.Error(id, ErrorCodes.TooLarge, $"'data' is over {_services.MaxDataBytes} bytes."));
            return false;
        }

        return true;
    }

    private bool TakeToken(long? id)
    {
        if (_rate!.TryTake())
        {
            return true;
        }

        EnqueueReply(ServerFrames.Error(id, ErrorCodes.RateLimited, $"Over {_options.PublishRate} publishes and sends per second."));
        if (_rate.RefusingFor > AbuseAfter)
        {
            Violation(WebSocketCloseCodes.Policy, "rate limit exceeded for over 5 s");
        }

        return false;
    }

    private void BadRequest(long? id, string message, string? about = null)
    {
        WebSocketLog.BadFrame(_services.Logger, ConnectionId, ErrorCodes.BadRequest, message);
        EnqueueReply(ServerFrames.Error(id, ErrorCodes.BadRequest, message, about));
    }

    private ConnectionSubscription NewSubscription(string channel, NamespacePolicy policy, ClientInfo client, bool personal) =>
        new(new Subscription(channel, SubscriberQueue.For(policy, this, _services.Metrics), client, receivesPresence: policy.Presence), policy, personal);

    /// <summary>
    /// Queues the replay right behind the reply just queued (so it follows its own <c>subscribed</c>),
    /// then lets the writer drain the subscription and the hub fill it with what arrives live.
    /// </summary>
    private void Activate(ConnectionSubscription subscription, StreamPosition? since, SubscribeResult result)
    {
        // The cursor starts where the client stands: at `since` when the missed publications are
        // replayed, else at the channel's current position. The writer reads it only after AddActive,
        // whose lock publishes what the reader wrote here.
        subscription.Cursor = new DeliveryCursor(result.Recovered ? since!.Value : result.Position);
        foreach (var publication in subscription.Subscription.TakeCatchUp())
        {
            subscription.Cursor.TryAdvance(publication, out _);
            EnqueueCatchUp(publication.GetEncoded(JsonFrameFormat.Instance));
        }

        _writer.AddActive(subscription);
        subscription.Subscription.Activate();
        _wake.Signal();
    }

    /// <summary>
    /// Takes a subscription out of the hub and the writer's view. With a <paramref name="reason"/> (the
    /// socket closed) what was still queued is counted as dropped; on an unsubscribe it was not wanted.
    /// </summary>
    private async ValueTask RemoveSubscriptionAsync(ConnectionSubscription subscription, DropReason? reason)
    {
        _writer.RemoveActive(subscription);
        if (!subscription.Personal)
        {
            _regularSubscriptions--;
        }

        await _services.Hub.UnsubscribeAsync(subscription.Subscription, CancellationToken.None);
        if (reason is { } dropReason)
        {
            subscription.Queue.DiscardPending(dropReason);
        }
        else
        {
            subscription.Queue.Complete();
        }

        if (subscription.Policy.Presence && Client is { } client)
        {
            await _services.Hub.LeaveAsync(subscription.Channel, client, CancellationToken.None);
        }
    }

    private static bool IsOwnPersonal(string? channel, ClientInfo client) =>
        channel is not null
        && (string.Equals(channel, ChannelNames.ForSession(client.SessionId!), StringComparison.Ordinal)
            || (client.UserId is { } user && string.Equals(channel, ChannelNames.ForUser(user), StringComparison.Ordinal)));

}
