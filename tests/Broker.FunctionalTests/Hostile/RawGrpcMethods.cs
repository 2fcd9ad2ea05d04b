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
    /// reads to the end. PublishStream sends the one request and reads to the end.
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
                    await WriteAsync(call.RequestStream, payload);
                    return await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout) ? StatusCode.OK : call.GetStatus().StatusCode;
                }

                case GrpcRpc.HandleReply:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(Handle, null, options);
                    await WriteAsync(call.RequestStream, GrpcFuzzer.Valid(GrpcRpc.Handle));
                    Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout), "a valid registration was not answered");
                    await WriteAsync(call.RequestStream, payload);
                    await call.RequestStream.CompleteAsync().WaitAsync(timeout);
                    while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout))
                    {
                    }

                    return call.GetStatus().StatusCode;
                }

                case GrpcRpc.PublishStream:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(PublishStream, null, options);
                    await WriteAsync(call.RequestStream, payload);
                    await call.RequestStream.CompleteAsync().WaitAsync(timeout);
                    while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(timeout))
                    {
                    }

                    return call.GetStatus().StatusCode;
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

    /// <summary>Writes one request; a call the server already ended refuses the write, and its status tells why.</summary>
    private static async Task WriteAsync(IClientStreamWriter<byte[]> requests, byte[] payload)
    {
        try
        {
            await requests.WriteAsync(payload).WaitAsync(BrokerServer.DefaultTimeout);
        }
        catch (InvalidOperationException)
        {
            // "The call is complete": the response side has the status.
        }
    }

    private static Method<byte[], byte[]> Unary(string name) => new(MethodType.Unary, BrokerMethods.ServiceName, name, Bytes, Bytes);
}
