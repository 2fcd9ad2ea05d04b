using Grpc.Core;
using Grpc.Net.Client;
using Google.Protobuf;
using Broker.Sdk;
using Interop.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.InteropTests;

/// <summary>
/// The SDK's gRPC channel (Grpc.Net.Client as <see cref="BrokerClient"/> sets it up) against an Echo server; the same
/// cases run against a real grpcio server (<see cref="SdkToPythonServerTests"/>) and against Grpc.AspNetCore on
/// Kestrel as the broker configures it (<see cref="SdkToKestrelTests"/>).
/// </summary>
public abstract class SdkClientTests : IDisposable
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Lazy<GrpcChannel> _channel;

    protected SdkClientTests()
    {
        // The channel exactly as BrokerClient makes it (its SocketsHttpHandler settings included).
        _channel = new Lazy<GrpcChannel>(() => BrokerClient.CreateChannel(new BrokerClientOptions { Address = Address }, NullLoggerFactory.Instance));
    }

    protected abstract Uri Address { get; }

    protected CallInvoker Invoker => _channel.Value.CreateCallInvoker();

    /// <summary>Completes when the server saw the call named <paramref name="callId"/> end early.</summary>
    protected abstract Task ServerSawCancellation(string callId);

    public void Dispose()
    {
        if (_channel.IsValueCreated)
        {
            _channel.Value.Dispose();
        }
    }

    private static Metadata CallId(string id) => new() { { "x-call-id", id } };

    [Fact]
    public async Task Unary_EchoesMessageAndMetadata()
    {
        var headers = new Metadata { { "authorization", "Bearer key-1" } };
        using var call = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(headers), new EchoRequest { Message = "hello" });
        var reply = await call.ResponseAsync.WaitAsync(Timeout);
        Assert.Equal("hello", reply.Message);
        Assert.Equal("Bearer key-1", reply.Authorization);
        Assert.StartsWith("ipv4:127.0.0.1:", reply.Peer, StringComparison.Ordinal);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        await call.ResponseHeadersAsync.WaitAsync(Timeout);
    }

    [Fact]
    public async Task ClientStreaming_SendsEveryMessage()
    {
        using var call = Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, new CallOptions(deadline: DateTime.UtcNow + Timeout));
        foreach (var m in new[] { "a", "b", "c", "d", "e" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = m, Payload = ByteString.CopyFromUtf8("0123456789") }).WaitAsync(Timeout);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        var reply = await call.ResponseAsync.WaitAsync(Timeout);
        Assert.Equal("a,b,c,d,e", reply.Message);
        Assert.Equal(50, reply.ReceivedSize);
    }

    [Fact]
    public async Task ServerStreaming_ReadsEveryMessageInOrder()
    {
        using var call = Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Message = "s", Count = 5 });
        var indices = new List<int>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
        {
            indices.Add(call.ResponseStream.Current.Index);
        }

        Assert.Equal([0, 1, 2, 3, 4], indices);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Bidi_Interleaved_EachReplyBeforeTheNextRequest()
    {
        using var call = Invoker.AsyncDuplexStreamingCall(EchoMethods.Bidi, null, default);
        for (var i = 0; i < 5; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = "m" + i }).WaitAsync(Timeout);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal("m" + i, call.ResponseStream.Current.Message);
        }

        await call.RequestStream.CompleteAsync().WaitAsync(Timeout);
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Error_StatusAndNonAsciiDetail_TrailersOnlyAndAfterMessages()
    {
        const string Detail = "Schlüssel ungültig: 100% ✗ — 鍵";
        using var unary = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { ErrorCode = 3, ErrorMessage = Detail });
        var ex = await Assert.ThrowsAsync<RpcException>(() => unary.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal(Detail, ex.Status.Detail);

        using var stream = Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Count = 2, ErrorCode = 9, ErrorMessage = Detail });
        var received = 0;
        var streamEx = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
            {
                received++;
            }
        });
        Assert.Equal(2, received);
        Assert.Equal(StatusCode.FailedPrecondition, streamEx.StatusCode);
        Assert.Equal(Detail, streamEx.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, stream.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Deadline_Expires_DeadlineExceeded_ServerSeesTheCallEnd()
    {
        var id = Guid.NewGuid().ToString("N");
        using var call = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(CallId(id), DateTime.UtcNow.AddMilliseconds(500)), new EchoRequest { DelayMs = 20000 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        await ServerSawCancellation(id).WaitAsync(Timeout);
    }

    [Fact]
    public async Task CancelMidStream_Cancelled_ServerSeesTheCallEnd()
    {
        var id = Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        using var call = Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, new CallOptions(CallId(id), cancellationToken: cts.Token), new EchoRequest { Count = 100000, DelayMs = 50 });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        await cts.CancelAsync().WaitAsync(Timeout);
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout))
            {
            }
        });
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await ServerSawCancellation(id).WaitAsync(Timeout);
    }

    [Fact]
    public async Task CancelRequestStream_ServerSeesCancellation_NotACompletedStream()
    {
        var id = Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        using var call = Invoker.AsyncDuplexStreamingCall(EchoMethods.Bidi, null, new CallOptions(CallId(id), cancellationToken: cts.Token));
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "a" }).WaitAsync(Timeout);
        // A reply proves the handler is running and reading the request stream.
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        await cts.CancelAsync().WaitAsync(Timeout);
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        // A half-close would let the handler finish normally; a reset makes it see the cancellation.
        await ServerSawCancellation(id).WaitAsync(Timeout);
    }

    [Fact]
    public async Task DisposeMidStream_ServerSeesTheCallEnd()
    {
        var id = Guid.NewGuid().ToString("N");
        var call = Invoker.AsyncDuplexStreamingCall(EchoMethods.Bidi, null, new CallOptions(CallId(id)));
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "first" }).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        // The handler is now waiting for the next request: disposing must reset the stream under it.
        call.Dispose();
        await ServerSawCancellation(id).WaitAsync(Timeout);
        Assert.Equal(StatusCode.Cancelled, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task OneMegabyteMessages_BothWays()
    {
        const int Size = 1024 * 1024;
        using var call = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Payload = ByteString.CopyFrom(new byte[Size]), ReplySize = Size });
        var reply = await call.ResponseAsync.WaitAsync(Timeout);
        Assert.Equal(Size, reply.ReceivedSize);
        Assert.Equal(Size, reply.Payload.Length);
    }

    [Fact]
    public async Task RequestOver4MiB_ResourceExhaustedFromTheServer()
    {
        using var call = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Payload = ByteString.CopyFrom(new byte[(4 * 1024 * 1024) + 1]) });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task ReplyOver4MiB_ResourceExhaustedLocally()
    {
        using var call = Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Count = 1, ReplySize = (4 * 1024 * 1024) + 1 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task UnknownMethodAndService_Unimplemented()
    {
        var unknownMethod = EchoMethods.Create(MethodType.Unary, "Nope");
        var unknownService = EchoMethods.Create(MethodType.Unary, "Unary", "interop.v1.Nope");
        foreach (var method in new[] { unknownMethod, unknownService })
        {
            using var call = Invoker.AsyncUnaryCall(method, null, default, new EchoRequest());
            var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Timeout));
            Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        }
    }

    [Fact]
    public async Task MoreThan100ConcurrentStreams_OnOneConnection()
    {
        // 150 streams each get a first reply at once and a second after 3 s, so all 150 are open together.
        const int N = 150;
        // Warm up first: until the server's SETTINGS arrive, SocketsHttpHandler assumes the HTTP/2 default of
        // 100 streams per connection and, with EnableMultipleHttp2Connections, would open a second one.
        using (var warmUp = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest()))
        {
            await warmUp.ResponseAsync.WaitAsync(Timeout);
        }

        var calls = new List<AsyncServerStreamingCall<EchoReply>>();
        try
        {
            for (var i = 0; i < N; i++)
            {
                calls.Add(Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Message = i.ToString(System.Globalization.CultureInfo.InvariantCulture), Count = 2, DelayMs = 3000 }));
            }

            var peers = new HashSet<string>();
            foreach (var call in calls)
            {
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
                peers.Add(call.ResponseStream.Current.Peer);
            }

            foreach (var call in calls)
            {
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
                Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            }

            Assert.Single(peers);
        }
        finally
        {
            foreach (var call in calls)
            {
                call.Dispose();
            }
        }
    }
}
