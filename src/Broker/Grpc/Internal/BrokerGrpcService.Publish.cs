using Broker.Core;
using Broker.Diagnostics;
using Broker.Engines;
using Broker.Grpc.Transport;
using Broker.Grpc;
using Broker.GrpcTransport;
using Broker.V1;
using StreamPosition = Broker.Engines.StreamPosition;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary>Flush the pipelined replies at least this often, so a client that waits on a reply is not held up by buffering.</summary>
    private const int PublishStreamFlushEvery = 64;

    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary><c>Publish</c>: failures are the call's status.</summary>
    private async Task<PublishReply> PublishAsync(PublishRequest request, ServerCallContext context)
    {
        _auth.Check(context);
        using var activity = BrokerTracing.StartPublish(request.Channel, context.GetHttpContext());
        var result = (await PublishAsync(request, context.CancellationToken)).OrThrow();
        return Reply(request, result.Position);
    }

    /// <summary>
    /// <c>PublishStream</c>: one reply per request, in request order; a bad request fails only its reply.
    /// The next request is read only once the previous one is published, so a fast producer is held back
    /// by the broker (HTTP/2 flow control) instead of buffering without bound. Replies are written
    /// buffered and flushed whenever the next request is not already waiting.
    /// </summary>
    private async Task PublishStreamAsync(IAsyncStreamReader<PublishRequest> requests, IServerStreamWriter<PublishReply> replies, ServerCallContext context)
    {
        _auth.Check(context);
        BrokerTracing.DetachLongLivedRequest();
        using var drain = CancelOnDrain(context);
        _metrics.GrpcStreamStarted();
        try
        {
            await PublishStreamCoreAsync(requests, replies, context);
        }
        catch (OperationCanceledException) when (EndedByDrain(context))
        {
            throw Draining();
        }
        finally
        {
            _metrics.GrpcStreamEnded();
        }
    }

    private async Task PublishStreamCoreAsync(IAsyncStreamReader<PublishRequest> requests, IServerStreamWriter<PublishReply> replies, ServerCallContext context)
    {
        var token = context.CancellationToken;
        replies.WriteOptions = Buffered;
        // Our transport's writer (IRawMessageWriter) frames a message before WriteAsync returns, so one reply object
        // can be refilled for every request; another writer might serialize later, so it gets a new one each time.
        var reused = replies is IRawMessageWriter ? new PublishReply() : null;
        int unflushed = 0;
        var next = requests.MoveNext(token);
        while (true)
        {
            if (!next.IsCompleted && unflushed > 0)
            {
                await FlushAsync(replies);
                unflushed = 0;
            }

            if (!await next)
            {
                break;
            }

            var request = requests.Current;
            var reply = reused ?? new PublishReply();
            reply.RequestId = request.RequestId;
            reply.Channel = request.Channel;
            Result<PublishResult> result;
            using (BrokerTracing.StartPublish(request.Channel, context.GetHttpContext()))
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

            await replies.WriteAsync(reply, token);
            next = requests.MoveNext(token);
            if (++unflushed >= PublishStreamFlushEvery)
            {
                await FlushAsync(replies);
                unflushed = 0;
            }
        }

        if (unflushed > 0)
        {
            await FlushAsync(replies);
        }
    }

    private static async Task FlushAsync(IServerStreamWriter<PublishReply> replies)
    {
        if (replies is IRawMessageWriter raw)
        {
            await raw.FlushAsync();
        }
    }

    /// <summary>
    /// One request through the core. The request message is ours once parsed and its ByteString immutable:
    /// the publication keeps its memory without a copy.
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
