using Broker.Engines.Redis.Internal;
using StackExchange.Redis;
using RedisMessage = StackExchange.Redis.ChannelMessage;

namespace Broker.Engines.Redis;

/// <summary>
/// Interest: one Redis subscription per channel (SUBSCRIBE) or prefix (PSUBSCRIBE) this node listens
/// to, counted. Each subscription's messages come through its own <see cref="ChannelMessageQueue"/>,
/// read by one sequential loop (StackExchange.Redis's plain handlers may run concurrently), and go to
/// the channel's <see cref="DeliveryShard"/>, which orders and deduplicates across subscriptions.
/// </summary>
public sealed partial class RedisEngine
{
    private readonly Dictionary<string, Interest> _interests = new(StringComparer.Ordinal);
    private readonly Lock _interestGate = new();
    private int _patternInterests;

    /// <inheritdoc/>
    public async ValueTask SubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelOrPrefix);
        ThrowIfUnavailable();
        Interest interest;
        lock (_interestGate)
        {
            if (!_interests.TryGetValue(channelOrPrefix, out interest!))
            {
                interest = new Interest(IsPrefix(channelOrPrefix));
                _interests.Add(channelOrPrefix, interest);
                if (interest.IsPattern)
                {
                    _patternInterests++;
                }

                interest.Ready = SubscribeCoreAsync(channelOrPrefix, interest);
            }

            interest.Count++;
        }

        try
        {
            await interest.Ready.WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await UnsubscribeAsync(channelOrPrefix, CancellationToken.None).ConfigureAwait(false);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw e as EngineUnavailableException ?? Unavailable(e);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Never fails for an unreachable Redis: the interest is taken back here at once, and Redis
    /// forgets the subscription with the connection if the UNSUBSCRIBE cannot be sent.</remarks>
    public async ValueTask UnsubscribeAsync(string channelOrPrefix, CancellationToken cancellationToken)
    {
        Interest? removed = null;
        lock (_interestGate)
        {
            if (_interests.TryGetValue(channelOrPrefix, out var interest) && --interest.Count == 0)
            {
                _interests.Remove(channelOrPrefix);
                interest.Removed = true;
                if (interest.IsPattern)
                {
                    _patternInterests--;
                }

                removed = interest;
            }
        }

        if (removed is null)
        {
            return;
        }

        if (!removed.IsPattern)
        {
            ShardOf(channelOrPrefix).Enqueue(new DeliveryItem(DeliveryKind.Forget, channelOrPrefix));
        }

        if (removed.Queue is { } queue)
        {
            await UnsubscribeQuietlyAsync(queue).ConfigureAwait(false);
        }
    }

    bool IDeliveryHost.IsWatched(string channel) => ((IDeliveryHost)this).IsWatchedByName(channel) || ((IDeliveryHost)this).IsWatchedByPattern(channel);

    bool IDeliveryHost.IsWatchedByName(string channel)
    {
        lock (_interestGate)
        {
            return _interests.ContainsKey(channel);  // prefixes end in '*', which no channel name holds
        }
    }

    bool IDeliveryHost.IsWatchedByPattern(string channel)
    {
        if (Volatile.Read(ref _patternInterests) == 0)
        {
            return false;
        }

        lock (_interestGate)
        {
            foreach (var (name, interest) in _interests)
            {
                if (interest.IsPattern && channel.AsSpan().StartsWith(name.AsSpan(0, name.Length - 1), StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private async Task SubscribeCoreAsync(string channelOrPrefix, Interest interest)
    {
        await Task.Yield();  // out of the caller's lock
        var redisChannel = interest.IsPattern ? _keys.PubSubPattern(channelOrPrefix) : _keys.PubSub(channelOrPrefix);
        ChannelMessageQueue queue;
        try
        {
            // Completes when Redis acknowledged the SUBSCRIBE: from here on, nothing published is missed.
            queue = await _subscriber.SubscribeAsync(redisChannel).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            throw Unavailable(e);
        }

        queue.OnMessage(OnMessage);
        bool orphaned;
        lock (_interestGate)
        {
            interest.Queue = queue;
            orphaned = interest.Removed;
        }

        if (orphaned)
        {
            await UnsubscribeQuietlyAsync(queue).ConfigureAwait(false);
            return;
        }

        if (!interest.IsPattern)
        {
            // The position right after the SUBSCRIBE: older offsets are not expected live, so the first
            // frame after a lost one is seen as a gap and filled.
            var read = await ReadHistoryCoreAsync(channelOrPrefix, HistoryQuery.PositionOnly, _stopping.Token).ConfigureAwait(false);
            ShardOf(channelOrPrefix).Enqueue(new DeliveryItem(DeliveryKind.Baseline, channelOrPrefix, Position: read.Position));
        }
    }

    private void OnMessage(RedisMessage message)
    {
        var pubSubName = message.Channel.ToString();
        var channel = _keys.ChannelOf(pubSubName);
        var frame = (byte[]?)message.Message;
        if (channel is null || frame is null)
        {
            RedisEngineLog.MalformedFrame(_logger, pubSubName);
            return;
        }

        ShardOf(channel).Enqueue(new DeliveryItem(DeliveryKind.Frame, channel, frame));
    }

    private async Task UnsubscribeQuietlyAsync(ChannelMessageQueue queue)
    {
        try
        {
            await queue.UnsubscribeAsync().WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisFailures.IsUnavailable(e))
        {
            // Redis forgets the subscription with the connection; the queue is already detached locally.
        }
    }

    private int CountInterests()
    {
        lock (_interestGate)
        {
            return _interests.Count;
        }
    }

    private static bool IsPrefix(string channelOrPrefix) => channelOrPrefix.EndsWith('*');

    /// <summary>One channel or prefix this node listens to. Guarded by <c>_interestGate</c>.</summary>
    private sealed class Interest(bool isPattern)
    {
        public readonly bool IsPattern = isPattern;
        public int Count;
        public bool Removed;
        public Task Ready = Task.CompletedTask;
        public ChannelMessageQueue? Queue;
    }
}
