using Broker.Core.Handlers;
using Broker.Core;
using Broker.Diagnostics;
using Broker.V1;
using Google.Protobuf;
using Grpc.Core;
using HandlerRegistration = Broker.Core.Handlers.HandlerRegistration;
using HandlerReply = Broker.Core.Handlers.HandlerReply;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary>
    /// <c>Handle</c>: the first message registers the handler (answered with <c>Registered</c>); then
    /// calls go out as <c>Inbound</c> from one writer loop while this loop reads the replies. When the
    /// stream ends, the registry gives the handler's unanswered calls to another handler of its group.
    /// A reply whose data is not one JSON value in UTF-8 fails its browser's call (<c>internal</c>) and ends
    /// the stream with INVALID_ARGUMENT (RESOURCE_EXHAUSTED when too large): the handler is broken, and its other calls go to a sound one.
    /// A registration over <see cref="GrpcServiceOptions.MaxHandlerEvents"/>, or a second <c>register</c>, ends the stream
    /// with RESOURCE_EXHAUSTED (counted in <c>broker.limits.refused</c>); a reply to a call the handler does not hold is ignored.
    /// </summary>
    private async Task HandleAsync(IAsyncStreamReader<HandlerMessage> requests, IServerStreamWriter<HandlerEvent> responses, ServerCallContext context)
    {
        using var stop = LinkDrain(context);
        await HandleCoreAsync(requests, responses, stop.Token);
    }

    private async Task HandleCoreAsync(IAsyncStreamReader<HandlerMessage> requests, IServerStreamWriter<HandlerEvent> responses, CancellationToken token)
    {
        if (!await requests.MoveNext(token) || requests.Current.KindCase != HandlerMessage.KindOneofCase.Register)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message of Handle must be 'register'."));
        }

        var registration = requests.Current.Register;
        if (registration.Events.Count > _options.MaxHandlerEvents)
        {
            _metrics.RecordLimitRefused(LimitKind.HandlerEvents);
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"A registration may list {_options.MaxHandlerEvents} events (Broker:Grpc:MaxHandlerEvents); use a prefix ('chat.*') or another stream."));
        }

        var endpoint = new GrpcHandlerEndpoint();
        HandlerRegistration handler;
        try
        {
            handler = await _handlers.RegisterAsync(registration.Group, [.. registration.Events], (int)Math.Min(registration.MaxInFlight, int.MaxValue), endpoint);
        }
        catch (ArgumentException error)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error.Message));
        }

        GrpcServiceLog.HandlerRegistered(_logger, handler.HandlerId, handler.Group, handler.Events);
        Task? writer = null;
        try
        {
            // No token on writes: a cancelled write token resets the stream (see LinkDrain).
            await responses.WriteAsync(new HandlerEvent { Registered = new Registered { Group = handler.Group, HandlerId = handler.HandlerId } }, CancellationToken.None);
            writer = WriteInboundAsync(endpoint, responses, token);
            while (await requests.MoveNext(token))
            {
                var message = requests.Current;
                if (message.KindCase == HandlerMessage.KindOneofCase.Reply)
                {
                    var reply = message.Reply;
                    if (CheckReply(reply) is { } invalid)
                    {
                        _handlers.Complete(handler, reply.InboundId, HandlerReply.Error(ErrorCodes.Internal, "The handler's reply is not valid: " + invalid.Message));
                        throw new RpcException(new Status(GrpcErrors.StatusOf(invalid.Code), $"The reply to inbound {reply.InboundId}: {invalid.Message}"));
                    }

                    _handlers.Complete(handler, reply.InboundId, ToReply(reply));
                }
                else if (message.KindCase == HandlerMessage.KindOneofCase.Register)
                {
                    // Ignoring it would leave the handler waiting for a Registered that never comes.
                    _metrics.RecordLimitRefused(LimitKind.HandlerRegistrations);
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, "A Handle stream registers once; open another stream for another registration."));
                }
            }
        }
        finally
        {
            _handlers.Unregister(handler);
            endpoint.Complete();
            GrpcServiceLog.HandlerGone(_logger, handler.HandlerId, handler.Group);
            if (writer is not null)
            {
                try
                {
                    await writer;
                }
                catch (Exception error) when (error is OperationCanceledException or IOException or InvalidOperationException)
                {
                    // The stream is gone; the calls it held were already handed on by Unregister.
                }
            }
        }
    }

    private static async Task WriteInboundAsync(GrpcHandlerEndpoint endpoint, IServerStreamWriter<HandlerEvent> responses, CancellationToken token)
    {
        while (await endpoint.Calls.WaitToReadAsync(token))
        {
            while (endpoint.Calls.TryRead(out var call))
            {
                if (call.Task.IsCompleted)
                {
                    continue;  // timed out or answered elsewhere while queued
                }

                await responses.WriteAsync(new HandlerEvent
                {
                    Inbound = new Inbound
                    {
                        InboundId = call.Id,
                        Event = call.Event,
                        Data = UnsafeByteOperations.UnsafeWrap(call.Data),
                        From = ProtoConvert.ToProto(call.From),
                        DeadlineUnixMs = call.Deadline.ToUnixTimeMilliseconds(),
                    },
                }, CancellationToken.None);
            }
        }
    }

    /// <summary>A reply's data, when it has some, by the core's rule for data (one JSON value in UTF-8, within MaxMessageBytes).</summary>
    private BrokerError? CheckReply(V1.HandlerReply reply) =>
        reply.ErrorCode.Length > 0 || reply.Data.IsEmpty ? null : _node.CheckData(reply.Data.Memory, required: false);

    /// <summary>A handler's reply as the registry takes it, its data checked (<see cref="CheckReply"/>).</summary>
    private static HandlerReply ToReply(V1.HandlerReply reply) =>
        reply.ErrorCode.Length > 0
            ? HandlerReply.Error(reply.ErrorCode, reply.ErrorMessage.Length > 0 ? reply.ErrorMessage : reply.ErrorCode)
            : new HandlerReply(reply.Data.Memory);
}
