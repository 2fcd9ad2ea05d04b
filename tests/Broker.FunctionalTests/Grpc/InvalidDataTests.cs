using Grpc.Core;
using Broker.FunctionalTests.Infrastructure;
using Broker.V1;
using Google.Protobuf;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Grpc;

/// <summary>
/// Data that is not one JSON value in valid UTF-8 is refused on every gRPC path it can enter by (PROTOCOL.md:
/// INVALID_ARGUMENT): a text frame carrying it would fail every subscribed browser's WebSocket, which would
/// reconnect, recover the same publication and fail again.
/// </summary>
public class InvalidDataTests
{
    /// <summary>A JSON string whose bytes are not UTF-8 (0xFF and 0xFE never occur in UTF-8).</summary>
    private static readonly ByteString NotUtf8 = ByteString.CopyFrom(0x22, 0xFF, 0xFE, 0x22);

    [Fact]
    public async Task AUnaryPublishOfInvalidUtf8IsInvalidArgumentAndSubscribedBrowsersStayConnected()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (socket, _) = await server.ConnectAsync("alice");
        await using var _1 = socket;
        await socket.SubscribeAsync("room:u");
        using var client = new GrpcTestClient(server);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), new PublishRequest { Channel = "room:u", Data = NotUtf8 }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);

        // Nothing was published: the browser's next publication is the valid one, at offset 1, on a live socket.
        var reply = await client.PublishAsync("room:u", "\"ok\"");
        Assert.Equal(1ul, reply.Offset);
        var pub = await socket.SkipToAsync("pub");
        Assert.Equal("ok", pub.GetProperty("data").GetString());
        Assert.Equal(1, pub.GetProperty("offset").GetInt64());
    }

    [Fact]
    public async Task APublishStreamRequestOfInvalidUtf8FailsOnlyItsReplyWithBadRequest()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var call = client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, null, client.Options());
        await call.RequestStream.WriteAsync(new PublishRequest { Channel = "room:u", Data = NotUtf8, RequestId = 1 }).WaitAsync(BrokerServer.DefaultTimeout);
        await call.RequestStream.WriteAsync(new PublishRequest { Channel = "room:u", Data = ByteString.CopyFromUtf8("2"), RequestId = 2 }).WaitAsync(BrokerServer.DefaultTimeout);
        await call.RequestStream.CompleteAsync().WaitAsync(BrokerServer.DefaultTimeout);

        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(1ul, call.ResponseStream.Current.RequestId);
        Assert.Equal("bad_request", call.ResponseStream.Current.ErrorCode);
        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(2ul, call.ResponseStream.Current.RequestId);
        Assert.Equal(string.Empty, call.ResponseStream.Current.ErrorCode);
        Assert.Equal(1ul, call.ResponseStream.Current.Offset);
        Assert.False(await call.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task AHandlerReplyOfInvalidUtf8EndsItsStreamWithInvalidArgumentAndTheBrowserGetsAnError()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var handle = client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, client.Options(TimeSpan.FromSeconds(60)));
        await handle.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = "chat", Events = { "chat.*" } } }).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        var (socket, _) = await server.ConnectAsync("alice");
        await using var _1 = socket;
        await socket.SendAsync("""{"type":"send","id":9,"event":"chat.post","data":{"text":"hi"}}""");
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        var inbound = handle.ResponseStream.Current.Inbound;

        await handle.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = inbound.InboundId, Data = NotUtf8 } }).WaitAsync(BrokerServer.DefaultTimeout);
        var error = await Assert.ThrowsAsync<RpcException>(() => handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(inbound.InboundId.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Status.Detail, StringComparison.Ordinal);

        // The browser is answered at once (not after the handler timeout), and its socket is still open.
        await socket.ExpectErrorAsync("internal", id: 9);
        await socket.SubscribeAsync("room:after", id: 10);
    }
}
