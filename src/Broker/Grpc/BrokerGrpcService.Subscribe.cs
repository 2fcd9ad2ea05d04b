using System.Runtime.InteropServices;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Grpc.Transport;
using Broker.GrpcTransport;
using Broker.V1;
using CorePublication = Broker.Engines.Publication;
using CoreStreamPosition = Broker.Engines.StreamPosition;

namespace Broker.Grpc;

internal sealed partial class BrokerGrpcService
{
    /// <summary>The largest <c>buffer</c> a Subscribe may ask for: a million messages is seconds of the fastest feed.</summary>
    private const int MaxSubscribeBuffer = 1 << 20;

    /// <summary>Deliveries written before a flush: enough to fill HTTP/2 frames, few enough to keep latency low.</summary>
    private const int SubscribeFlushEvery = 256;

    /// <summary>
    /// <c>Subscribe</c>: every entry is set up in order (its <c>Subscribed</c>, then an exact channel's
    /// missed publications), then one drain loop writes the stream's queue. All setup happens before the
    /// loop starts, so nothing writes concurrently and each <c>Subscribed</c> precedes its channel's
    /// publications. The queue is shared by the stream's channels and drops its oldest when full; the
    /// loop tells each drop per channel with <c>Lagged</c>, from the jump in that channel's offsets.
    /// </summary>
    private async Task SubscribeAsync(SubscribeRequest request, IServerStreamWriter<Delivery> responses, ServerCallContext context)
    {
        _auth.Check(context);
        if (CheckSubscribe(request) is { } failure)
        {
            throw failure.ToException();
        }

        BrokerTracing.DetachLongLivedRequest();
        _metrics.GrpcStreamStarted();
        try
        {
            await SubscribeCoreAsync(request, responses, context);
        }
        finally
        {
            _metrics.GrpcStreamEnded();
        }
    }

    private async Task SubscribeCoreAsync(SubscribeRequest request, IServerStreamWriter<Delivery> responses, ServerCallContext context)
    {
        var token = context.CancellationToken;
        int capacity = request.Buffer == 0 ? _options.DefaultSubscribeBuffer : (int)Math.Min(request.Buffer, MaxSubscribeBuffer);
        // By bytes too: a KiB a message, and at least one largest message.
        long maxBytes = Math.Max(capacity * 1024L, _maxDataBytes + SubscriberQueue.MaxOverheadBytes);
        var queue = new SubscriberQueue(capacity, maxBytes, OverflowPolicy.DropOldest, metrics: _metrics);
        var exactChannels = request.Channels.Where(static c => !c.EndsWith('*')).ToArray();
        var prefixEntries = request.Channels.Where(static c => c.EndsWith('*')).ToArray();
        var prefix = prefixEntries.Length > 0 ? new PrefixSubscription(prefixEntries, exactChannels, queue) : null;
        var subscriptions = new List<Subscription>(exactChannels.Length);
        var cursors = new Dictionary<string, DeliveryCursor>(StringComparer.Ordinal);
        var raw = responses as IRawMessageWriter;
        responses.WriteOptions = Buffered;
        bool prefixLive = false;
        try
        {
            foreach (var entry in request.Channels)
            {
                if (entry.EndsWith('*'))
                {
                    if (!prefixLive)
                    {
                        await _hub.AddPrefixAsync(prefix!, token);
                        prefixLive = true;
                    }

                    await responses.WriteAsync(new Delivery { Subscribed = new Subscribed { Channel = entry } }, token);
                    continue;
                }

                CoreStreamPosition? since = request.Since.TryGetValue(entry, out var position) ? ProtoConvert.FromProto(position) : null;
                var subscription = new Subscription(entry, queue);
                var result = await _hub.SubscribeAsync(subscription, since, token);
                subscriptions.Add(subscription);
                await responses.WriteAsync(new Delivery
                {
                    Subscribed = new Subscribed { Channel = entry, Position = ProtoConvert.ToProto(result.Position), Recovered = result.Recovered },
                }, token);

                var cursor = new DeliveryCursor(result.Recovered ? since!.Value : result.Position);
                foreach (var missed in subscription.TakeCatchUp())
                {
                    cursor.TryAdvance(missed, out _);
                    await WriteAsync(responses, raw, missed);
                }

                cursors[entry] = cursor;
                subscription.Activate();
            }

            await FlushAsync(responses, raw);
            // The drain completes the queue: the loop writes what is still queued, then ends.
            await using (_drain.Token.UnsafeRegister(static q => ((SubscriberQueue)q!).Complete(), queue))
            {
                await DrainAsync(queue, cursors, responses, raw, _metrics, token);
            }

            if (_drain.IsDraining)
            {
                throw Draining();
            }
        }
        finally
        {
            foreach (var subscription in subscriptions)
            {
                await _hub.UnsubscribeAsync(subscription, CancellationToken.None);
            }

            if (prefixLive)
            {
                await _hub.RemovePrefixAsync(prefix!, CancellationToken.None);
            }

            queue.DiscardPending(_drain.IsDraining ? DropReason.Shutdown : DropReason.Closed);
            GrpcServiceLog.SubscribeStreamEnded(_logger, request.Channels);
        }
    }

    /// <summary>The stream's one writer: waits for the queue, writes what is there in a flushed batch, until the call ends.</summary>
    private static async Task DrainAsync(SubscriberQueue queue, Dictionary<string, DeliveryCursor> cursors, IServerStreamWriter<Delivery> responses, IRawMessageWriter? raw, BrokerMetrics metrics, CancellationToken token)
    {
        // Stop by completing the queue, not by cancelling each wait: a cancellable wait registers on the
        // token every time.
        await using var stop = token.UnsafeRegister(static q => ((SubscriberQueue)q!).Complete(), queue);
        // Messages are taken from the queue a batch per lock (see SubscriberQueue); 64 keeps the array
        // small while a flush of SubscribeFlushEvery still takes only a few locks.
        var taken = new ChannelMessage?[64];
        while (await queue.WaitToReadAsync(CancellationToken.None))
        {
            int written = 0;
            // One write sample per wake-up, the first publication written: nothing is added per delivery.
            CorePublication? sample = null;
            int count;
            while (written < SubscribeFlushEvery && (count = queue.TryReadMany(taken, long.MaxValue)) > 0)
            {
                for (int i = 0; i < count; i++)
                {
                    var message = taken[i];
                    taken[i] = null;  // the array must not keep a delivered publication alive
                    if (message is not CorePublication publication)
                    {
                        continue;
                    }

                    // A channel first seen through a prefix starts its cursor right before its first publication.
                    ref var cursor = ref CollectionsMarshal.GetValueRefOrAddDefault(cursors, publication.Channel, out bool existed);
                    if (!existed)
                    {
                        cursor = new DeliveryCursor(new CoreStreamPosition(publication.Epoch, publication.Offset - 1));
                    }

                    if (!cursor.TryAdvance(publication, out ulong dropped))
                    {
                        continue;
                    }

                    if (dropped > 0)
                    {
                        metrics.RecordLagged();
                        await responses.WriteAsync(new Delivery
                        {
                            Lagged = new Lagged
                            {
                                Channel = publication.Channel,
                                Dropped = dropped,
                                Position = new V1.StreamPosition { Epoch = publication.Epoch, Offset = publication.Offset - 1 },
                            },
                        }, token);
                    }

                    await WriteAsync(responses, raw, publication);
                    sample ??= publication;
                    written++;
                }
            }

            using (BrokerTracing.StartDeliver(sample?.Trace, sample?.Channel, "grpc"))
            {
                await FlushAsync(responses, raw);
            }

            if (sample is not null)
            {
                metrics.RecordWriteSample(sample.Time, queue.PendingBytes);
            }
        }

        token.ThrowIfCancellationRequested();
    }

    /// <summary>Writes a publication's shared bytes when the stream takes raw messages, else the message.</summary>
    private static ValueTask WriteAsync(IServerStreamWriter<Delivery> responses, IRawMessageWriter? raw, CorePublication publication)
    {
        if (raw is not null)
        {
            return raw.WriteRawAsync(publication.GetEncoded(ProtobufDeliveryFormat.Instance), flush: false);
        }

        return new ValueTask(responses.WriteAsync(new Delivery { Publication = ProtoConvert.ToProto(publication) }));
    }

    private static ValueTask FlushAsync(IServerStreamWriter<Delivery> responses, IRawMessageWriter? raw) =>
        raw?.FlushAsync() ?? ValueTask.CompletedTask;

    private Failure? CheckSubscribe(SubscribeRequest request)
    {
        if (request.Channels.Count == 0)
        {
            return new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, "'channels' names no channel.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in request.Channels)
        {
            if (!seen.Add(entry))
            {
                return new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, $"'{ChannelNames.Shorten(entry)}' is named twice.");
            }

            if (entry.EndsWith('*'))
            {
                var stem = entry.AsSpan(0, entry.Length - 1);
                // A prefix is the start of a channel name: its characters must be channel characters.
                if (!stem.IsEmpty && ChannelNames.Classify(string.Concat(stem, "x")) == ChannelKind.Invalid)
                {
                    return new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, $"'{ChannelNames.Shorten(entry)}' is not a channel prefix.");
                }

                continue;
            }

            if (CheckChannel(entry, out _) is { } failure)
            {
                return failure;
            }
        }

        foreach (var channel in request.Since.Keys)
        {
            if (!seen.Contains(channel) || channel.EndsWith('*'))
            {
                return new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, $"'since' names '{ChannelNames.Shorten(channel)}', which is not an exact channel of 'channels'.");
            }
        }

        return null;
    }
}
