using Broker.GrpcTransport;
using Google.Protobuf;

namespace Broker.Sdk.Transport;

/// <summary>Starts calls on a <see cref="GrpcChannel"/>.</summary>
internal sealed class HttpClientCallInvoker : CallInvoker
{
    private readonly GrpcChannel _channel;

    public HttpClientCallInvoker(GrpcChannel channel)
    {
        _channel = channel;
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
    {
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        call.Start(request);
        return new AsyncUnaryCall<TResponse>(call.GetSingleResponseAsync(), call);
    }

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
    {
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        call.Start(null);
        return new AsyncClientStreamingCall<TRequest, TResponse>(call.RequestStream!, call.GetSingleResponseAsync(), call);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
    {
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        call.Start(request);
        return new AsyncServerStreamingCall<TResponse>(call.ResponseStream, call);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options)
    {
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        call.Start(null);
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call.RequestStream!, call.ResponseStream, call);
    }
}
