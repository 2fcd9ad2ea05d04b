using Broker.V1;
using Grpc.Core;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The broker's RPCs with bytes for messages: whatever a test puts in a request goes on the wire as it is (a gRPC
/// frame around it, written by Grpc.Net.Client), so malformed protobuf reaches the server's parser.
/// </summary>
public static class RawGrpcMethods
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static bytes => bytes, static bytes => bytes);

    public static readonly Method<byte[], byte[]> Publish = Unary(BrokerMethods.Publish.Name);
    public static readonly Method<byte[], byte[]> IssueTicket = Unary(BrokerMethods.IssueTicket.Name);
    public static readonly Method<byte[], byte[]> Disconnect = Unary(BrokerMethods.Disconnect.Name);
    public static readonly Method<byte[], byte[]> History = Unary(BrokerMethods.History.Name);
    public static readonly Method<byte[], byte[]> Presence = Unary(BrokerMethods.Presence.Name);
    public static readonly Method<byte[], byte[]> Subscribe = new(MethodType.ServerStreaming, BrokerMethods.ServiceName, BrokerMethods.Subscribe.Name, Bytes, Bytes);
    public static readonly Method<byte[], byte[]> PublishStream = new(MethodType.DuplexStreaming, BrokerMethods.ServiceName, BrokerMethods.PublishStream.Name, Bytes, Bytes);
    public static readonly Method<byte[], byte[]> Handle = new(MethodType.DuplexStreaming, BrokerMethods.ServiceName, BrokerMethods.Handle.Name, Bytes, Bytes);

    /// <summary>
    /// Calls <paramref name="rpc"/> with <paramref name="payload"/> as its (first) request message and returns the status
    /// it ends with. A stream that answers at all counts as OK: Subscribe's first <c>Subscribed</c>, Handle's
    /// <c>Registered</c>; then the call is cancelled. HandleReply registers validly, sends the payload second and
    /// reads to the end, as PublishStream does with its one request.
    /// </summary>
    public static async Task<StatusCode> InvokeAsync(this CallInvoker invoker, GrpcRpc rpc, byte[] payload, Metadata? headers = null)
    {
        var timeout = BrokerServer.DefaultTimeout;
        var options = new CallOptions(headers, DateTime.UtcNow + timeout);
        try
        {
            switch (rpc)
            {
                case GrpcRpc.Subscribe:
                {
                    using var call = invoker.AsyncServerStreamingCall(Subscribe, null, options, payload);
                    return await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout) ? StatusCode.OK : call.GetStatus().StatusCode;
                }

                case GrpcRpc.Handle:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(Handle, null, options);
                    var sending = SendAsync(call.RequestStream, payload, complete: false);
                    var answered = await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout);
                    call.Dispose();
                    await sending.WaitAsync(timeout);
                    return answered ? StatusCode.OK : call.GetStatus().StatusCode;
                }

                case GrpcRpc.HandleReply:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(Handle, null, options);
                    await call.RequestStream.WriteAsync(GrpcFuzzer.Valid(GrpcRpc.Handle)).WaitAsync(timeout);
                    Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout), "a valid registration was not answered");
                    return await SendAndReadToEndAsync(call, payload, timeout);
                }

                case GrpcRpc.PublishStream:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(PublishStream, null, options);
                    return await SendAndReadToEndAsync(call, payload, timeout);
                }

                default:
                {
                    var method = rpc switch
                    {
                        GrpcRpc.Publish => Publish,
                        GrpcRpc.IssueTicket => IssueTicket,
                        GrpcRpc.Disconnect => Disconnect,
                        GrpcRpc.History => History,
                        _ => Presence,
                    };
                    await invoker.AsyncUnaryCall(method, null, options, payload).ResponseAsync.WaitAsync(timeout);
                    return StatusCode.OK;
                }
            }
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
    }

    /// <summary>Sends the request and ends the stream while reading every response; the status the call ends with.</summary>
    private static async Task<StatusCode> SendAndReadToEndAsync(AsyncDuplexStreamingCall<byte[], byte[]> call, byte[] payload, TimeSpan timeout)
    {
        var sending = SendAsync(call.RequestStream, payload, complete: true);
        while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout))
        {
        }

        call.Dispose();
        await sending.WaitAsync(timeout);
        return call.GetStatus().StatusCode;
    }

    /// <summary>
    /// Writes one request (and ends the request stream when asked) beside the reading of the responses, as a client
    /// that reads its call's status while it writes: a server that ends the call early (a message over the limit)
    /// leaves a large write pending in flow control until the call is disposed. Its failures are the status's to tell.
    /// </summary>
    private static async Task SendAsync(IClientStreamWriter<byte[]> requests, byte[] payload, bool complete)
    {
        try
        {
            await requests.WriteAsync(payload);
            if (complete)
            {
                await requests.CompleteAsync();
            }
        }
        catch (Exception error) when (error is InvalidOperationException or RpcException or OperationCanceledException or IOException)
        {
            // The call ended first: the response side has its status.
        }
    }

    private static Method<byte[], byte[]> Unary(string name) => new(MethodType.Unary, BrokerMethods.ServiceName, name, Bytes, Bytes);
}
