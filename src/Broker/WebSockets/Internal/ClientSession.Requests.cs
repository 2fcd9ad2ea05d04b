using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.WebSockets;

namespace Broker.WebSockets.Internal;

internal sealed partial class ClientSession
{
    /// <summary>A <c>subscribe</c>, or one entry of <c>hello.resume</c> (errors then name the channel, as there is no id).</summary>
    private async ValueTask SubscribeAsync(long? id, string? channel, StreamPosition? since, bool fromResume)
    {
        string? about = fromResume ? channel : null;
        // The channel's rules answer first, then the socket's own table (which the core knows nothing
        // of), then the subscribe itself, which checks the rules again: a subscribe is rare, and the
        // order of the answers stays the one clients see (a browser's own personal channel is forbidden,
        // not already subscribed).
        if (_node.CheckChannel(Caller!, channel, BrokerNode.Access.Read, out _) is { } refused)
        {
            Refuse(id, refused with { Channel = about });
            return;
        }

        if (_subscriptions.ContainsKey(channel!))
        {
            Refuse(id, new BrokerError(ErrorCode.AlreadySubscribed, $"Already subscribed to '{channel}' on this socket; unsubscribe first to subscribe again.", about));
            return;
        }

        if (_regularSubscriptions >= _services.Options.MaxSubscriptions)
        {
            Refuse(id, new BrokerError(ErrorCode.LimitExceeded, $"At most {_services.Options.MaxSubscriptions} subscriptions per connection (Broker:WebSocket:MaxSubscriptions; personal channels not counted); unsubscribe one first.", about));
            return;
        }

        // Counted before the await, so a resume of many channels cannot pass the limit.
        _regularSubscriptions++;
        Result<SubscriptionFeed> result;
        try
        {
            result = await _node.SubscribeAsync(Caller!, channel, since, _connection, Closing);
        }
        catch
        {
            _regularSubscriptions--;
            throw;
        }

        if (!result.TryGetValue(out var feed, out var error))
        {
            _regularSubscriptions--;
            Refuse(id, error with { Channel = about });
            return;
        }

        _subscriptions[channel!] = new ConnectionSubscription(feed, Personal: false);
        _connection.StartFeed(feed, id);
    }

    private async ValueTask UnsubscribeAsync(ClientFrame frame)
    {
        var channel = frame.Channel;
        if (channel is null || ChannelNames.Classify(channel) == ChannelKind.Invalid)
        {
            BadRequest(frame.Id, channel is null ? "'channel' is required." : ChannelNames.NotAChannel(channel));
            return;
        }

        if (!_subscriptions.TryGetValue(channel, out var subscription) || subscription.Personal)
        {
            Refuse(frame.Id, ChannelNames.Classify(channel) == ChannelKind.Regular
                ? new BrokerError(ErrorCode.NotSubscribed, $"Not subscribed to '{channel}'.")
                : new BrokerError(ErrorCode.Forbidden, "Personal channels stay subscribed for the life of the socket."));
            return;
        }

        _subscriptions.Remove(channel);
        await RemoveSubscriptionAsync(subscription, reason: null);
        _connection.EnqueueReply(ServerFrames.Unsubscribed(frame.Id, channel));
    }

    private async ValueTask PublishAsync(ClientFrame frame, Caller caller)
    {
        if (!TakeToken(frame.Id))
        {
            return;
        }

        var result = await _node.PublishAsync(caller, frame.Channel, frame.Event, DataOf(frame), idempotencyKey: null, Closing);
        if (!result.TryGetValue(out var published, out var error))
        {
            Refuse(frame.Id, error);
        }
        else if (frame.Id is { } id)
        {
            _connection.EnqueueReply(ServerFrames.Ack(id, frame.Channel!, published.Position));
        }
    }

    private void Send(ClientFrame frame, Caller caller)
    {
        if (!TakeToken(frame.Id))
        {
            return;
        }

        if (frame.Id is not { } id)
        {
            BadRequest(null, "A send needs an 'id' (an integer) for its reply.");
            return;
        }

        // Not awaited: the reader goes on while the handler works; the reply is queued when it comes.
        _ = CompleteSendAsync(id, frame, caller);
    }

    private async Task CompleteSendAsync(long id, ClientFrame frame, Caller caller)
    {
        try
        {
            var result = await _node.SendAsync(caller, frame.Event, DataOf(frame), Closing);
            _connection.EnqueueReply(result.TryGetValue(out var data, out var error) ? ServerFrames.Reply(id, data) : ServerFrames.Error(id, error));
        }
        catch (OperationCanceledException)
        {
            // The socket closed while the handler worked.
        }
        catch (Exception exception)
        {
            WebSocketLog.RequestFault(_services.Logger, _connection.ConnectionId, "send", exception);
            _connection.EnqueueReply(ServerFrames.Error(id, ErrorCodes.Internal, "The broker failed to handle the send."));
        }
    }

    private async ValueTask HistoryAsync(ClientFrame frame, Caller caller)
    {
        var result = await _node.HistoryAsync(caller, frame.Channel, frame.Since, frame.Limit, Closing);
        _connection.EnqueueReply(result.TryGetValue(out var history, out var error) ? ServerFrames.History(frame.Id, frame.Channel!, history) : ServerFrames.Error(frame.Id, error));
    }

    private async ValueTask PresenceAsync(ClientFrame frame, Caller caller)
    {
        var result = await _node.PresenceAsync(caller, frame.Channel, Closing);
        _connection.EnqueueReply(result.TryGetValue(out var members, out var error) ? ServerFrames.Presence(frame.Id, frame.Channel!, members) : ServerFrames.Error(frame.Id, error));
    }

    /// <summary>
    /// Takes a subscription out of the writer's view and the core. With a <paramref name="reason"/> (the
    /// socket closed) what was still queued is counted as dropped; on an unsubscribe it was not wanted.
    /// </summary>
    private async ValueTask RemoveSubscriptionAsync(ConnectionSubscription subscription, DropReason? reason)
    {
        _connection.StopFeed(subscription.Feed);
        if (!subscription.Personal)
        {
            _regularSubscriptions--;
        }

        await subscription.Feed.CloseAsync(reason);
        if (reason is null)
        {
            // The writer no longer reads this feed: let go of what is left so the node's queue budget gets it back.
            subscription.Feed.Queue.Clear();
        }
    }

    /// <summary>The frame's <c>data</c>, or null when it had none (a missing field, not JSON <c>null</c>).</summary>
    private static ReadOnlyMemory<byte>? DataOf(ClientFrame frame) => frame.Data is { } data ? data : null;
}
