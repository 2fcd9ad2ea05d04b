using System.Net;
using System.Net.Sockets;
using Broker.FunctionalTests.Grpc;
using Broker.GrpcTransport;
using Broker.Testing;
using Broker.V1;
using Google.Protobuf;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Cluster;

/// <summary>
/// A broker whose Redis is unreachable (nothing listens where it points): requests answer <c>unavailable</c>
/// at once instead of waiting for Redis, and each one is counted (PROTOCOL.md, "Running several brokers").
/// </summary>
public sealed class RedisUnreachableTests
{
    [Fact]
    public async Task EveryEngineRequestAnswersUnavailableAtOnce_AndIsCounted()
    {
        // Operations would wait 30 s for Redis; the calls' 10 s deadline shows that nothing waits.
        await using var server = await BrokerServer.StartAsync(With(
            ("Broker:Engine", "Redis"),
            ("Broker:Redis:Configuration", $"127.0.0.1:{FreePort()}"),
            ("Broker:Redis:OperationTimeout", "00:00:30")));
        using var metrics = new ServerMetrics(server);
        using var client = new GrpcTestClient(server);
        using var web = server.CreateWebClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await web.GetAsync("/readyz")).StatusCode);

        var deadline = TimeSpan.FromSeconds(10);
        var publish = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, client.Options(deadline), new PublishRequest { Channel = "room:x", Data = ByteString.CopyFromUtf8("1") }).ResponseAsync);
        var history = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.History, client.Options(deadline), new HistoryRequest { Channel = "room:x" }).ResponseAsync);
        var presence = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Presence, client.Options(deadline), new PresenceRequest { Channel = "chat:x" }).ResponseAsync);
        var disconnect = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Disconnect, client.Options(deadline), new DisconnectRequest { UserId = "zoe" }).ResponseAsync);
        using var subscribe = client.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, client.Options(deadline), new SubscribeRequest { Channels = { "room:x" } });
        var subscribed = await Assert.ThrowsAsync<RpcException>(() => subscribe.ResponseStream.MoveNext(default));

        Assert.All([publish, history, presence, disconnect, subscribed], e => Assert.Equal(StatusCode.Unavailable, e.StatusCode));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "publish"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "history"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "presence"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "disconnect"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "subscribe"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
