using Broker.GrpcTransport;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Broker.Grpc.Transport;

/// <summary>Serves one method of one of the four shapes: reads requests, runs the handler, writes responses.</summary>
internal sealed class MethodCallHandler<TRequest, TResponse> : ServerCallHandler
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly Method<TRequest, TResponse> _method;
    private readonly Delegate _handler;

    public MethodCallHandler(Method<TRequest, TResponse> method, Delegate handler, GrpcTransportOptions options, ILogger logger)
        : base(method.FullName, options, logger)
    {
        _method = method;
        _handler = handler;
    }

    protected override async Task RunAsync(HttpServerCallContext call)
    {
        call.Initialize(_method.Type);
        switch (_method.Type)
        {
            case MethodType.Unary:
            {
                var request = await ReadSingleRequestAsync(call);
                var response = await ((UnaryServerMethod<TRequest, TResponse>)_handler)(request, call);
                WriteSingleResponse(call, response);
                break;
            }

            case MethodType.ClientStreaming:
            {
                var reader = new HttpContextStreamReader<TRequest>(call, _method.RequestParser);
                var response = await ((ClientStreamingServerMethod<TRequest, TResponse>)_handler)(reader, call);
                WriteSingleResponse(call, response);
                break;
            }

            case MethodType.ServerStreaming:
            {
                var request = await ReadSingleRequestAsync(call);
                var writer = new HttpContextStreamWriter<TResponse>(call);
                try
                {
                    await ((ServerStreamingServerMethod<TRequest, TResponse>)_handler)(request, writer, call);
                }
                finally
                {
                    writer.Complete();
                }

                break;
            }

            case MethodType.DuplexStreaming:
            {
                var reader = new HttpContextStreamReader<TRequest>(call, _method.RequestParser);
                var writer = new HttpContextStreamWriter<TResponse>(call);
                try
                {
                    await ((DuplexStreamingServerMethod<TRequest, TResponse>)_handler)(reader, writer, call);
                }
                finally
                {
                    writer.Complete();
                }

                break;
            }

            default:
                throw new InvalidOperationException($"Unknown method type {_method.Type}.");
        }
    }

    /// <summary>Reads the one request of a unary or server-streaming call, up to the end of the request body.</summary>
    private async Task<TRequest> ReadSingleRequestAsync(HttpServerCallContext call)
    {
        var request = await call.ReadMessageAsync(_method.RequestParser, call.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.Internal, "Request did not include a message."));
        var extra = await call.ReadMessageAsync(_method.RequestParser, call.CancellationToken);
        if (extra is not null)
        {
            // A unary request is exactly one message (PROTOCOL-HTTP2.md); a second one is a client bug.
            throw new RpcException(new Status(StatusCode.Internal, "Request included more than one message for a single-request method."));
        }

        return request;
    }

    private void WriteSingleResponse(HttpServerCallContext call, TResponse? response)
    {
        if (response is null)
        {
            throw new RpcException(new Status(StatusCode.Internal, "No message returned from method."));
        }

        if (call.Status.StatusCode != StatusCode.OK)
        {
            // A handler that set a failing status sends no message, only the status.
            return;
        }

        // Not flushed here: ending the call flushes the message together with the trailers in one write.
        GrpcMessageWriter.WriteMessage(call.GetHttpContext().Response.BodyWriter, response, Options.MaxSendMessageSize);
        call.ResponseBodyStarted = true;
    }
}
