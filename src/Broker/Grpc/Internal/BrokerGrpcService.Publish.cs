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
    /// The next request is read only once the previous one is published, so a fast producer is held back
    /// by the broker (HTTP/2 flow control) instead of buffering without bound. Replies are written
    /// buffered and flushed whenever the next request is not already waiting. The drain stops the reading.
    /// </summary>
    private async Task PublishStreamAsync(IAsyncStreamReader<PublishRequest> requests, IServerStreamWriter<PublishReply> replies, ServerCallContext context)
    {
        using var stop = LinkDrain(context);
        var token = stop.Token;
        var http = context.GetHttpContext();
        replies.WriteOptions = Buffered;
        // Grpc.AspNetCore serializes a message before the awaited WriteAsync completes, and each write is awaited
        // before the next request is read: one reply object is refilled for every request.
        var reply = new PublishReply();
        int unflushed = 0;
        var next = requests.MoveNext(token);
        while (true)
        {
            if (!next.IsCompleted && unflushed > 0)
            {
                await FlushAsync(http);
                unflushed = 0;
            }

            if (!await next)
            {
                break;
            }

            var request = requests.Current;
            reply.RequestId = request.RequestId;
            reply.Channel = request.Channel;
            Result<PublishResult> result;
            using (BrokerTracing.StartPublish(request.Channel, http))
            {
                result = await PublishAsync(request, token);
            }

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
            next = requests.MoveNext(token);
            if (++unflushed >= PublishStreamFlushEvery)
            {
                await FlushAsync(http);
                unflushed = 0;
            }
        }

        if (unflushed > 0)
        {
            await FlushAsync(http);
        }
    }

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
