using System.Diagnostics;
using System.Threading.Channels;
using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.V1;
using Grpc.Core;
using StreamPosition = Broker.Engines.StreamPosition;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary>Flush the pipelined replies at least this often, so a client that waits on a reply is not held up by buffering.</summary>
    private const int PublishStreamFlushEvery = 64;

    /// <summary>
    /// Publishes of one <c>PublishStream</c> in flight at most. 64 per round trip to Redis (a fraction of a
    /// millisecond) is far more than one stream's producer needs, and it bounds what one stream holds to
    /// 64 × <c>MaxMessageBytes</c> (4 MiB at the default); a producer beyond it waits in HTTP/2 flow control.
    /// </summary>
    private const int PublishStreamWindow = 64;

    /// <summary>
    /// Writes that only serialize into the response pipe; the stream flushes itself (<see cref="FlushAsync"/>) once per
    /// batch. Grpc.AspNetCore sends nothing of a BufferHint write until a flush or the call's end.
    /// </summary>
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary><c>Publish</c>: failures are the call's status.</summary>
    private async Task<PublishReply> PublishAsync(PublishRequest request, ServerCallContext context)
    {
        using var activity = BrokerTracing.StartPublish(request.Channel, context.GetHttpContext());
        var result = (await PublishAsync(request, context.CancellationToken)).OrThrow();
        return Reply(request, result.Position);
    }

    /// <summary>
    /// <c>PublishStream</c>: one reply per request, in request order; a bad request fails only its reply.
    /// One loop reads requests and starts each publish without waiting for the ones before it, up to
    /// <see cref="PublishStreamWindow"/> unanswered; beyond that it stops reading, so a fast producer is held back
    /// by the broker (HTTP/2 flow control) instead of buffering without bound. A second loop writes the replies
    /// in order as the publishes complete, buffered, flushed whenever it is about to wait. The drain stops the
    /// reading; the publishes already started are still answered.
    /// </summary>
    /// <remarks>
    /// Why overlap: with the Redis engine a publish is a round trip, and awaiting each before reading the next
    /// capped one stream at one publication per round trip (about 170/s under load, every delivery then its own
    /// socket write; docs/performance.md, "Cluster fan-out: profile"). Engines number a channel's publications in
    /// the order the publishes were started (IEngine, "Numbering"), so overlapping them keeps the request order.
    /// </remarks>
    private async Task PublishStreamAsync(IAsyncStreamReader<PublishRequest> requests, IServerStreamWriter<PublishReply> replies, ServerCallContext context)
    {
        using var stop = LinkDrain(context);
        var http = context.GetHttpContext();
        replies.WriteOptions = Buffered;
        var started = Channel.CreateBounded<InFlightPublish>(new BoundedChannelOptions(PublishStreamWindow) { SingleReader = true, SingleWriter = true });
        var reading = ReadPublishRequestsAsync(requests, started.Writer, http, stop.Token);
        try
        {
            await WritePublishRepliesAsync(started.Reader, replies, http);
        }
        catch
        {
            // The client is gone or the stream broke: stop reading too, then report the write's failure.
            await stop.CancelAsync();
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        // Rethrows what ended the reading (the drain: the interceptor answers UNAVAILABLE).
        await reading;
    }

    private async Task ReadPublishRequestsAsync(IAsyncStreamReader<PublishRequest> requests, ChannelWriter<InFlightPublish> started, HttpContext http, CancellationToken token)
    {
        try
        {
            while (await requests.MoveNext(token))
            {
                var publish = Start(requests.Current, http, token);
                if (!started.TryWrite(publish))
                {
                    await started.WriteAsync(publish, token);
                }
            }
        }
        finally
        {
            // Always: the reply loop answers what was started, then ends.
            started.TryComplete();
        }
    }

    private static async Task WritePublishRepliesAsync(ChannelReader<InFlightPublish> started, IServerStreamWriter<PublishReply> replies, HttpContext http)
    {
        // Grpc.AspNetCore serializes a message before the awaited WriteAsync completes: one reply object is
        // refilled for every request.
        var reply = new PublishReply();
        int unflushed = 0;
        while (true)
        {
            if (!started.TryRead(out var publish))
            {
                if (unflushed > 0)
                {
                    await FlushAsync(http);
                    unflushed = 0;
                }

                if (!await started.WaitToReadAsync())
                {
                    return;
                }

                continue;
            }

            if (!publish.Result.IsCompleted && unflushed > 0)
            {
                await FlushAsync(http);
                unflushed = 0;
            }

            Result<PublishResult> result;
            try
            {
                result = await publish.Result;
            }
            finally
            {
                publish.Activity?.Dispose();
            }

            reply.RequestId = publish.RequestId;
            reply.Channel = publish.Channel;
            if (result.TryGetValue(out var published, out var failure))
            {
                reply.Offset = published.Position.Offset;
                reply.Epoch = published.Position.Epoch;
                reply.ErrorCode = string.Empty;
                reply.ErrorMessage = string.Empty;
            }
            else
            {
                reply.Offset = 0;
                reply.Epoch = string.Empty;
                reply.ErrorCode = failure.Name;
                reply.ErrorMessage = failure.Message;
            }

            // No token: a cancelled write token resets the stream (see LinkDrain).
            await replies.WriteAsync(reply, CancellationToken.None);
            if (++unflushed >= PublishStreamFlushEvery)
            {
                await FlushAsync(http);
                unflushed = 0;
            }
        }
    }

    /// <summary>Starts one request's publish under its own <c>publish</c> activity, which stays open until its reply.</summary>
    private InFlightPublish Start(PublishRequest request, HttpContext http, CancellationToken token)
    {
        var parent = Activity.Current;
        var activity = BrokerTracing.StartPublish(request.Channel, http);
        var result = PublishAsync(request, token);
        // The publish captured its activity; the next request's must not become its child.
        Activity.Current = parent;
        return new InFlightPublish(request.RequestId, request.Channel, result, activity);
    }

    /// <summary>A started publish of <c>PublishStream</c> waiting for its turn to reply.</summary>
    private readonly record struct InFlightPublish(ulong RequestId, string Channel, ValueTask<Result<PublishResult>> Result, Activity? Activity);

    /// <summary>
    /// Sends what buffered writes left in the response pipe: Grpc.AspNetCore writes into
    /// <see cref="HttpResponse.BodyWriter"/>, and has no flush of its own between messages.
    /// </summary>
    private static async ValueTask FlushAsync(HttpContext http) => await http.Response.BodyWriter.FlushAsync();

    /// <summary>
    /// One request through the core, which checks channel, event and data (one JSON value in valid UTF-8, within
    /// MaxMessageBytes). The request message is ours once parsed and its ByteString immutable: the publication
    /// keeps its memory without a copy.
    /// </summary>
    private ValueTask<Result<PublishResult>> PublishAsync(PublishRequest request, CancellationToken token) =>
        _node.PublishAsync(Caller.Backend, request.Channel, request.Event, request.Data.Memory, ProtoConvert.NullIfEmpty(request.IdempotencyKey), token);

    private static PublishReply Reply(PublishRequest request, StreamPosition position) => new()
    {
        RequestId = request.RequestId,
        Channel = request.Channel,
        Offset = position.Offset,
        Epoch = position.Epoch,
    };
}
