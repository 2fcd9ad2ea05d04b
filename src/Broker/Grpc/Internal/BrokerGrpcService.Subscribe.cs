using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary>The largest <c>buffer</c> a Subscribe may ask for: a million messages is seconds of the fastest feed.</summary>
    private const int MaxSubscribeBuffer = 1 << 20;

    /// <summary>Deliveries written before a flush: enough to fill HTTP/2 frames, few enough to keep latency low.</summary>
    private const int SubscribeFlushEvery = 256;

    /// <summary>
    /// <c>Subscribe</c>: every entry is checked, then subscribed in order into one feed, whose queue the
    /// stream's channels share and which drops its oldest when full. One drain loop then writes what the
    /// feed yields: each entry's <c>Subscribed</c> and an exact channel's missed publications, then live
    /// publications with <c>Lagged</c> where the queue dropped. Responses are serialized <c>Delivery</c>
    /// messages (<see cref="V1.BrokerMethods.SubscribeEncoded"/>): a publication's bytes are encoded once and
    /// shared by every stream.
    /// </summary>
    private async Task SubscribeAsync(SubscribeRequest request, IServerStreamWriter<byte[]> responses, ServerCallContext context)
    {
        if (CheckSubscribe(request) is { } failure)
        {
            throw failure.ToException();
        }

        var token = context.CancellationToken;
        int capacity = request.Buffer == 0 ? _options.DefaultSubscribeBuffer : (int)Math.Min(request.Buffer, MaxSubscribeBuffer);
        // By bytes too: a KiB a message, and at least one largest message.
        long maxBytes = Math.Max(capacity * 1024L, _node.MaxDataBytes + SubscriberQueue.MaxOverheadBytes);
        var feed = _node.OpenFeed(capacity, maxBytes);
        responses.WriteOptions = Buffered;
        try
        {
            await AddEntriesAsync(request, feed, token);
            // The drain completes the queue (no token is cancelled: see LinkDrain): the loop writes what is still
            // queued, then ends, and the stream ends with UNAVAILABLE.
            await using (_drain.Token.UnsafeRegister(static q => ((SubscriberQueue)q!).Complete(), feed.Queue))
            {
                await DrainAsync(feed, responses, context.GetHttpContext(), _metrics, token);
            }

            if (_drain.IsDraining)
            {
                throw BrokerCallInterceptor.Draining();
            }
        }
        finally
        {
            await feed.CloseAsync(_drain.IsDraining ? DropReason.Shutdown : DropReason.Closed);
            GrpcServiceLog.SubscribeStreamEnded(_logger, request.Channels);
        }
    }

    /// <summary>Subscribes the entries in order (the prefix entries all at once, where the first of them stands).</summary>
    private async Task AddEntriesAsync(SubscribeRequest request, SubscriptionFeed feed, CancellationToken token)
    {
        bool prefixesAdded = false;
        foreach (var entry in request.Channels)
        {
            BrokerError? refused;
            if (entry.EndsWith('*'))
            {
                if (prefixesAdded)
                {
                    continue;
                }

                prefixesAdded = true;
                var prefixes = request.Channels.Where(static c => c.EndsWith('*')).ToArray();
                refused = await _node.SubscribePrefixesAsync(prefixes, request.Channels.Where(static c => !c.EndsWith('*')), feed, token);
            }
            else
            {
                var since = request.Since.TryGetValue(entry, out var position) ? ProtoConvert.FromProto(position) : (Engines.StreamPosition?)null;
                refused = await _node.SubscribeAsync(Caller.Backend, entry, since, feed, token);
            }

            if (refused is not null)
            {
                throw refused.ToException();
            }
        }
    }

    /// <summary>
    /// The stream's one writer: waits for the feed, writes what it yields as BufferHint writes (serialized into the
    /// response pipe, nothing sent) and flushes once per batch, until the call ends.
    /// </summary>
    private static async Task DrainAsync(SubscriptionFeed feed, IServerStreamWriter<byte[]> responses, HttpContext http, BrokerMetrics metrics, CancellationToken token)
    {
        var queue = feed.Queue;
        // Stop by completing the queue, not by cancelling each wait: a cancellable wait registers on the
        // token every time.
        await using var stop = token.UnsafeRegister(static q => ((SubscriberQueue)q!).Complete(), queue);
        // Items are read from the feed a batch per queue lock (see SubscriberQueue); 64 keeps the array
        // small while a flush of SubscribeFlushEvery still takes only a few locks.
        var items = new FeedItem[64];
        // The starts (each entry's Subscribed and replay) are not in the queue, so the queue's signal
        // does not cover them: read on without waiting until every start is written.
        while (!feed.Started || await queue.WaitToReadAsync(CancellationToken.None))
        {
            int written = 0;
            // One write sample per wake-up, the first publication written: nothing is added per delivery.
            Engines.Publication? sample = null;
            int count;
            while (written < SubscribeFlushEvery && (count = feed.Read(items, long.MaxValue)) > 0)
            {
                for (int i = 0; i < count; i++)
                {
                    var item = items[i];
                    items[i] = default;  // the array must not keep a delivered publication alive
                    // No token on writes: a cancelled write token resets the stream (see LinkDrain). A buffered write
                    // completes synchronously once the response has started, so these awaits cost no state switch.
                    switch (item.Kind)
                    {
                        case FeedItemKind.Subscribed:
                            await responses.WriteAsync(ToDelivery(item.Start).ToByteArray(), CancellationToken.None);
                            break;
                        case FeedItemKind.Lagged:
                            var next = item.Publication;
                            await responses.WriteAsync(new Delivery
                            {
                                Lagged = new Lagged
                                {
                                    Channel = next.Channel,
                                    Dropped = item.Dropped,
                                    Position = new V1.StreamPosition { Epoch = next.Epoch, Offset = next.Offset - 1 },
                                },
                            }.ToByteArray(), CancellationToken.None);
                            break;
                        case FeedItemKind.Publication:
                            // The publication's Delivery bytes, encoded once whatever the number of streams.
                            await responses.WriteAsync(item.Publication.GetEncoded(ProtobufDeliveryFormat.Instance), CancellationToken.None);
                            sample ??= item.Publication;
                            written++;
                            break;
                    }
                }
            }

            using (BrokerTracing.StartDeliver(sample?.Trace, sample?.Channel, "grpc"))
            {
                await FlushAsync(http);
            }

            if (sample is not null)
            {
                metrics.RecordWriteSample(sample.Time, queue.PendingBytes);
            }
        }

        token.ThrowIfCancellationRequested();
    }

    private static Delivery ToDelivery(SubscriptionStart start) => new()
    {
        Subscribed = start.Position is { } position
            ? new Subscribed { Channel = start.Channel, Position = ProtoConvert.ToProto(position), Recovered = start.Recovered }
            : new Subscribed { Channel = start.Channel },
    };

    /// <summary>
    /// The request's shape, before anything is subscribed: at least one entry and at most
    /// <see cref="GrpcServiceOptions.MaxSubscriptionsPerStream"/>, none twice, every prefix
    /// and channel valid, <c>since</c> only for exact entries. Failures fail the call.
    /// </summary>
    private BrokerError? CheckSubscribe(SubscribeRequest request)
    {
        if (request.Channels.Count == 0)
        {
            return new BrokerError(ErrorCode.BadRequest, "'channels' names no channel.");
        }

        if (request.Channels.Count > _options.MaxSubscriptionsPerStream)
        {
            _metrics.RecordLimitRefused(LimitKind.GrpcSubscriptions);
            return new BrokerError(ErrorCode.LimitExceeded, $"'channels' names {request.Channels.Count} entries; a stream may name {_options.MaxSubscriptionsPerStream} (Broker:Grpc:MaxSubscriptionsPerStream). Use a prefix or another stream.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in request.Channels)
        {
            if (!seen.Add(entry))
            {
                return new BrokerError(ErrorCode.BadRequest, $"'{ChannelNames.Shorten(entry)}' is named twice.");
            }

            var refused = entry.EndsWith('*') ? BrokerNode.CheckPrefix(entry) : _node.CheckChannel(Caller.Backend, entry, BrokerNode.Access.Read, out _);
            if (refused is not null)
            {
                return refused;
            }
        }

        foreach (var channel in request.Since.Keys)
        {
            if (!seen.Contains(channel) || channel.EndsWith('*'))
            {
                return new BrokerError(ErrorCode.BadRequest, $"'since' names '{ChannelNames.Shorten(channel)}', which is not an exact channel of 'channels'.");
            }
        }

        return null;
    }
}
