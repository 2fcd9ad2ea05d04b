using Broker.Core;
using Broker.Engines;
using Broker.Grpc.Transport;
using Broker.GrpcTransport;
using Broker.Diagnostics;
using Broker.V1;
using StreamPosition = Broker.Engines.StreamPosition;

namespace Broker.Grpc;

internal sealed partial class BrokerGrpcService
{
    /// <summary>Flush the pipelined replies at least this often, so a client that waits on a reply is not held up by buffering.</summary>
    private const int PublishStreamFlushEvery = 64;

    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary><c>Publish</c>: failures are the call's status.</summary>
    private async Task<PublishReply> PublishAsync(PublishRequest request, ServerCallContext context)
    {
        _auth.Check(context);
        if (Validate(request, out var command) is { } failure)
        {
            throw failure.ToException();
        }

        using var activity = BrokerTracing.StartPublish(command.Channel, context.GetHttpContext());
        var result = await _hub.PublishAsync(command, context.CancellationToken);
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
            if (Validate(request, out var command) is { } failure)
            {
                reply.Offset = 0;
                reply.Epoch = string.Empty;
                reply.ErrorCode = failure.Code;
                reply.ErrorMessage = failure.Message;
            }
            else
            {
                using var activity = BrokerTracing.StartPublish(command.Channel, context.GetHttpContext());
                var result = await _hub.PublishAsync(command, token);
                reply.Offset = result.Position.Offset;
                reply.Epoch = result.Position.Epoch;
                reply.ErrorCode = string.Empty;
                reply.ErrorMessage = string.Empty;
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

    private Failure? Validate(PublishRequest request, out PublishCommand command)
    {
        command = default;
        if (CheckChannel(request.Channel, out _) is { } badChannel)
        {
            return badChannel;
        }

        if (ChannelNames.Classify(request.Channel) == ChannelKind.BrokerStats)
        {
            return new(StatusCode.PermissionDenied, ErrorCodes.Forbidden, $"Only the broker publishes to '{ChannelNames.BrokerStats}'.");
        }

        string eventName = request.Event.Length == 0 ? ChannelNames.DefaultEvent : request.Event;
        if (!ChannelNames.IsValidEvent(eventName))
        {
            return new(StatusCode.InvalidArgument, ErrorCodes.BadRequest, $"'{ChannelNames.Shorten(eventName)}' is not an event name.");
        }

        if (CheckData(request.Data.Span) is { } badData)
        {
            return badData;
        }

        if (!_hub.Engine.IsHealthy)
        {
            return new(StatusCode.Unavailable, ErrorCodes.Unavailable, "The engine is unreachable; try again.");
        }

        // The request message is ours once parsed and its ByteString immutable: the publication keeps
        // its memory without a copy.
        command = new PublishCommand(request.Channel, eventName, request.Data.Memory, From: null, ProtoConvert.NullIfEmpty(request.IdempotencyKey));
        return null;
    }

    private static PublishReply Reply(PublishRequest request, StreamPosition position) => new()
    {
        RequestId = request.RequestId,
        Channel = request.Channel,
        Offset = position.Offset,
        Epoch = position.Epoch,
    };
}
