using Broker.Core.Handlers;
using Broker.Core;
using Broker.Grpc.Transport;
using Broker.Grpc;
using Broker.GrpcTransport;
using Broker.V1;
using Google.Protobuf;
using HandlerRegistration = Broker.Core.Handlers.HandlerRegistration;
using HandlerReply = Broker.Core.Handlers.HandlerReply;

namespace Broker.Grpc.Internal;

internal sealed partial class BrokerGrpcService
{
    /// <summary>
    /// <c>Handle</c>: the first message registers the handler (answered with <c>Registered</c>); then
    /// calls go out as <c>Inbound</c> from one writer loop while this loop reads the replies. When the
    /// stream ends, the registry gives the handler's unanswered calls to another handler of its group.
    /// </summary>
    private async Task HandleAsync(IAsyncStreamReader<HandlerMessage> requests, IServerStreamWriter<HandlerEvent> responses, ServerCallContext context)
    {
        _auth.Check(context);
        Broker.Diagnostics.BrokerTracing.DetachLongLivedRequest();
        using var drain = CancelOnDrain(context);
        _metrics.GrpcStreamStarted();
        try
        {
            await HandleCoreAsync(requests, responses, context);
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

    private async Task HandleCoreAsync(IAsyncStreamReader<HandlerMessage> requests, IServerStreamWriter<HandlerEvent> responses, ServerCallContext context)
    {
        var token = context.CancellationToken;
        if (!await requests.MoveNext(token) || requests.Current.KindCase != HandlerMessage.KindOneofCase.Register)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message of Handle must be 'register'."));
        }

        var registration = requests.Current.Register;
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
            await responses.WriteAsync(new HandlerEvent { Registered = new Registered { Group = handler.Group, HandlerId = handler.HandlerId } }, token);
            writer = WriteInboundAsync(endpoint, responses, token);
            while (await requests.MoveNext(token))
            {
                var message = requests.Current;
                if (message.KindCase == HandlerMessage.KindOneofCase.Reply)
                {
                    _handlers.Complete(handler, message.Reply.InboundId, ToReply(message.Reply));
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
                }, token);
            }
        }
    }

    /// <summary>A handler's reply as the registry takes it (the core checks its data when it hands it to the browser).</summary>
    private static HandlerReply ToReply(V1.HandlerReply reply) =>
        reply.ErrorCode.Length > 0
            ? HandlerReply.Error(reply.ErrorCode, reply.ErrorMessage.Length > 0 ? reply.ErrorMessage : reply.ErrorCode)
            : new HandlerReply(reply.Data.Memory);
}
