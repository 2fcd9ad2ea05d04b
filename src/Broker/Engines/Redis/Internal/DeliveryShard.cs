using System.Threading.Channels;

namespace Broker.Engines.Redis.Internal;

/// <summary>
/// Orders one share of the channels: a single loop takes this shard's items in arrival order, so a
/// channel's messages reach the handler one at a time and in offset order, whichever subscription
/// (exact or pattern) brought them. It drops duplicates (both subscriptions match, or history already
/// gave it) and fills a jump in offsets from history before delivering past it.
/// </summary>
/// <remarks>
/// A gap fill awaits Redis inside the loop and holds up the shard's other channels for that one round
/// trip; gaps happen only after a lost link, so the simplicity is worth it.
/// </remarks>
internal sealed class DeliveryShard
{
    /// <summary>Pattern-only cursors idle this long are forgotten (their channel may never come back). 10 minutes: well past any burst.</summary>
    private const long IdleCursorMs = 10 * 60 * 1000;

    /// <summary>
    /// How long a local hand-over that came early waits for those before it. Concurrent publishers'
    /// replies reach the shard out of order by thread-pool jitter (microseconds, a few ms when busy); 50 ms
    /// covers that, and filling each such gap from Redis instead costs a round trip per frame, which is
    /// slower than the publishers and falls behind history.
    /// </summary>
    private const int ParkMs = 50;

    private readonly Channel<DeliveryItem> _queue = Channel.CreateUnbounded<DeliveryItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, ChannelCursor> _cursors = new(StringComparer.Ordinal);
    private readonly IDeliveryHost _host;
    private readonly ILogger _logger;
    private readonly Task _loop;

    public DeliveryShard(IDeliveryHost host, ILogger logger)
    {
        _host = host;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues an item; never blocks (unbounded: Redis's own output buffer limit bounds a slow node).</summary>
    public void Enqueue(in DeliveryItem item) => _queue.Writer.TryWrite(item);

    /// <summary>Stops after the queued items.</summary>
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _loop;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                try
                {
                    var pending = ProcessAsync(item);
                    if (!pending.IsCompletedSuccessfully)
                    {
                        await pending.ConfigureAwait(false);
                    }
                }
                catch (Exception e)
                {
                    RedisEngineLog.DeliveryFailed(_logger, item.Channel, e);
                }
            }
        }
    }

    private ValueTask ProcessAsync(in DeliveryItem item)
    {
        switch (item.Kind)
        {
            case DeliveryKind.Frame:
                return OnFrameAsync(item.Channel, item.Frame!, item.Local);
            case DeliveryKind.Baseline:
                OnBaseline(item.Channel, item.Position);
                return ValueTask.CompletedTask;
            case DeliveryKind.CatchUp when item.Channel.Length == 0:
                return CatchUpEveryAsync();
            case DeliveryKind.CatchUp:
                return _cursors.TryGetValue(item.Channel, out var cursor) && cursor.Epoch is not null
                    ? CatchUpAsync(item.Channel, cursor)
                    : ValueTask.CompletedTask;
            case DeliveryKind.Flush:
                return _cursors.TryGetValue(item.Channel, out var parked) ? FlushAsync(item.Channel, parked) : ValueTask.CompletedTask;
            case DeliveryKind.Forget:
                if (!_host.IsWatched(item.Channel))
                {
                    _cursors.Remove(item.Channel);
                }

                return ValueTask.CompletedTask;
            default:
                Sweep();
                return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Catches every channel of the shard up from history (after an outage). One marker item, which the
    /// loop expands: only the loop may walk the cursors.
    /// </summary>
    public void CatchUpAll() => _queue.Writer.TryWrite(new DeliveryItem(DeliveryKind.CatchUp, string.Empty));

    private async ValueTask OnFrameAsync(string channel, byte[] frame, bool local)
    {
        if (!PublicationCodec.TryParseFrame(frame, out byte kind, out ulong offset, out string epoch, out var payload))
        {
            RedisEngineLog.MalformedFrame(_logger, channel);
            return;
        }

        var cursor = GetCursor(channel);
        cursor.LastUsedMs = Environment.TickCount64;
        if (kind == PublicationCodec.KindPublication)
        {
            if (!string.Equals(cursor.Epoch, epoch, StringComparison.Ordinal))
            {
                // The first frame of a channel starts the cursor just before it, unless it is a local
                // hand-over: those may come out of order, so the cursor starts at 0 and history fills what
                // came before (a read that is cheap, and delivers nothing, unless history still holds
                // offset 1). A new epoch of a channel the cursor already followed means Redis lost its
                // numbering: the handler is told first (the unsolicited `subscribed`), and live delivery
                // continues from this frame, as a fresh subscribe would.
                var old = cursor.Epoch;
                cursor.Epoch = epoch;
                cursor.Offset = old is null && !local ? offset - 1 : 0;
                cursor.Parked?.Clear();
                if (old is not null)
                {
                    if (!local)
                    {
                        cursor.Offset = offset - 1;
                    }

                    OnEpochChanged(channel, old, cursor);
                }
            }

            if (offset <= cursor.Offset)
            {
                return;  // a duplicate: both an exact and a pattern subscription matched, or history gave it
            }

            if (offset > cursor.Offset + 1)
            {
                if (local)
                {
                    Park(channel, cursor, offset, frame);
                    return;
                }

                // Pub/sub keeps a subscription's order, so this gap is a real loss: fill it now.
                await FillAsync(channel, cursor, offset - 1).ConfigureAwait(false);
                if (offset <= cursor.Offset)
                {
                    return;
                }
            }

            cursor.Offset = offset;
            _host.Handler.OnPublication(PublicationCodec.DecodeBody(channel, new StreamPosition(epoch, offset), payload));
            DeliverParked(channel, cursor, untilGap: true);
            return;
        }

        if (kind is PublicationCodec.KindJoin or PublicationCodec.KindLeave)
        {
            // The frame carries the channel's position when the member came or went: deliver what was
            // published before it first, so join/leave land where they happened among publications.
            if (string.Equals(cursor.Epoch, epoch, StringComparison.Ordinal) && offset > cursor.Offset)
            {
                await FillAsync(channel, cursor, offset).ConfigureAwait(false);
            }

            var user = System.Text.Encoding.UTF8.GetString(payload.Span);
            _host.Handler.OnPresence(new PresenceEvent(channel, kind == PublicationCodec.KindJoin, user));
            return;
        }

        RedisEngineLog.MalformedFrame(_logger, channel);
    }

    private void Park(string channel, ChannelCursor cursor, ulong offset, byte[] frame)
    {
        (cursor.Parked ??= [])[offset] = frame;
        if (!cursor.FlushScheduled)
        {
            cursor.FlushScheduled = true;
            _ = Task.Delay(ParkMs).ContinueWith(
                static (_, state) => { var (shard, name) = ((DeliveryShard, string))state!; shard.Enqueue(new DeliveryItem(DeliveryKind.Flush, name)); },
                (this, channel),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Delivers parked frames that continue the cursor: all of them, or only up to the first gap.</summary>
    private void DeliverParked(string channel, ChannelCursor cursor, bool untilGap)
    {
        var parked = cursor.Parked;
        while (parked is { Count: > 0 })
        {
            var (offset, frame) = parked.First();
            if (untilGap && offset > cursor.Offset + 1)
            {
                return;
            }

            parked.Remove(offset);
            if (offset > cursor.Offset && PublicationCodec.TryParseFrame(frame, out _, out _, out var epoch, out var payload)
                && string.Equals(epoch, cursor.Epoch, StringComparison.Ordinal))
            {
                cursor.Offset = offset;
                _host.Handler.OnPublication(PublicationCodec.DecodeBody(channel, new StreamPosition(epoch, offset), payload));
            }
        }
    }

    private async ValueTask FlushAsync(string channel, ChannelCursor cursor)
    {
        cursor.FlushScheduled = false;
        if (cursor.Parked is not { Count: > 0 } parked)
        {
            return;
        }

        await FillAsync(channel, cursor, parked.First().Key - 1).ConfigureAwait(false);
        DeliverParked(channel, cursor, untilGap: false);
    }

    private void OnBaseline(string channel, StreamPosition position)
    {
        var cursor = GetCursor(channel);
        // Only a cursor that nothing moved yet takes the baseline: a pattern subscription may already be
        // delivering this channel, and its subscriber expects the messages in flight.
        if (cursor.Epoch is null && !_host.IsWatchedByPattern(channel))
        {
            cursor.Epoch = position.Epoch;
            cursor.Offset = position.Offset;
        }
    }

    /// <summary>Delivers the kept publications after the cursor up to <paramref name="upTo"/>.</summary>
    private async ValueTask FillAsync(string channel, ChannelCursor cursor, ulong upTo)
    {
        ulong after = cursor.Offset;
        int count = 0;
        try
        {
            int limit = (int)Math.Min(upTo - after, int.MaxValue);
            var read = await _host.ReadHistoryAsync(channel, new HistoryQuery(new StreamPosition(cursor.Epoch!, after), limit)).ConfigureAwait(false);
            if (read.Recovered && string.Equals(read.Position.Epoch, cursor.Epoch, StringComparison.Ordinal))
            {
                foreach (var publication in read.Publications)
                {
                    if (publication.Offset > cursor.Offset && publication.Offset <= upTo)
                    {
                        cursor.Offset = publication.Offset;
                        _host.Handler.OnPublication(publication);
                        count++;
                    }
                }

                RedisEngineLog.GapFilled(_logger, channel, count, after);
                return;
            }

            RedisEngineLog.GapNotFilled(_logger, channel, after, null);
        }
        catch (Exception e) when (e is EngineUnavailableException or OperationCanceledException)
        {
            RedisEngineLog.GapNotFilled(_logger, channel, after, e);
        }
    }

    private async ValueTask CatchUpEveryAsync()
    {
        // Only this loop changes the dictionary, and it is here: the walk is safe across the awaits.
        foreach (var (channel, cursor) in _cursors)
        {
            if (cursor.Epoch is not null)
            {
                await CatchUpAsync(channel, cursor).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask CatchUpAsync(string channel, ChannelCursor cursor)
    {
        try
        {
            var read = await _host.ReadHistoryAsync(channel, HistoryQuery.After(new StreamPosition(cursor.Epoch!, cursor.Offset))).ConfigureAwait(false);
            if (!string.Equals(read.Position.Epoch, cursor.Epoch, StringComparison.Ordinal))
            {
                // Redis lost the channel (a new epoch): tell the handler, and continue live from the new
                // life's top, as a fresh subscribe would (the subscriber reloads: recovered is false).
                var old = cursor.Epoch!;
                cursor.Epoch = read.Position.Epoch;
                cursor.Offset = read.Position.Offset;
                OnEpochChanged(channel, old, cursor);
                return;
            }

            foreach (var publication in read.Publications)
            {
                if (publication.Offset > cursor.Offset)
                {
                    cursor.Offset = publication.Offset;
                    _host.Handler.OnPublication(publication);
                }
            }

            // What history no longer keeps is gone: continue from the channel's top, the jump showing it.
            if (read.Position.Offset > cursor.Offset)
            {
                cursor.Offset = read.Position.Offset;
            }
        }
        catch (Exception e) when (e is EngineUnavailableException or OperationCanceledException)
        {
            RedisEngineLog.GapNotFilled(_logger, channel, cursor.Offset, e);
        }
    }

    private void OnEpochChanged(string channel, string oldEpoch, ChannelCursor cursor)
    {
        RedisEngineLog.EpochChanged(_logger, channel, oldEpoch, cursor.Epoch!, cursor.Offset);
        _host.Handler.OnEpochChanged(channel, new StreamPosition(cursor.Epoch!, cursor.Offset));
    }

    private void Sweep()
    {
        long now = Environment.TickCount64;
        List<string>? idle = null;
        foreach (var (channel, cursor) in _cursors)
        {
            if (now - cursor.LastUsedMs > IdleCursorMs && !_host.IsWatchedByName(channel))
            {
                (idle ??= []).Add(channel);
            }
        }

        if (idle is not null)
        {
            foreach (var channel in idle)
            {
                _cursors.Remove(channel);
            }
        }
    }

    private ChannelCursor GetCursor(string channel)
    {
        if (!_cursors.TryGetValue(channel, out var cursor))
        {
            cursor = new ChannelCursor { LastUsedMs = Environment.TickCount64 };
            _cursors.Add(channel, cursor);
        }

        return cursor;
    }
}
