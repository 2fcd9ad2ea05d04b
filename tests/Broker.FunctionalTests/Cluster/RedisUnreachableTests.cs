using System.Net;
using Broker.FunctionalTests.Grpc;
using Broker.FunctionalTests.Infrastructure;
using Broker.FunctionalTests.Sessions;
using Grpc.Core;
using Broker.Testing;
using Broker.V1;
using Google.Protobuf;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Cluster;

/// <summary>
/// A broker whose Redis went away (its process killed): requests answer <c>unavailable</c>
/// at once instead of waiting for Redis, and each one is counted (PROTOCOL.md, "Running several brokers").
/// </summary>
public sealed class RedisUnreachableTests
{
    [Fact]
    public async Task EveryEngineRequestAnswersUnavailableAtOnce_AndIsCounted()
    {
        // A Redis of this test's own, killed mid-test: the broker starts on it, then loses it.
        var redis = new RedisServer();
        await redis.InitializeAsync();
        await using var server = await BrokerServer.StartAsync(With(
            ("Broker:Engine", "Redis"),
            ("Broker:Redis:Configuration", redis.Configuration),
            ("Broker:Redis:Prefix", RedisServer.NewPrefix()),
            // Operations would wait 30 s for Redis; the calls' 10 s deadline shows that nothing waits.
            ("Broker:Redis:OperationTimeout", "00:00:30")));
        using var metrics = new ServerMetrics(server);
        using var client = new GrpcTestClient(server);
        await server.WaitForReadyzAsync(HttpStatusCode.OK);
        await redis.DisposeAsync();
        await server.WaitForReadyzAsync(HttpStatusCode.ServiceUnavailable);

        var deadline = TimeSpan.FromSeconds(10);
        var publish = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(deadline), new PublishRequest { Channel = "room:x", Data = ByteString.CopyFromUtf8("1") }).ResponseAsync);
        var history = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.History, null, client.Options(deadline), new HistoryRequest { Channel = "room:x" }).ResponseAsync);
        var presence = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Presence, null, client.Options(deadline), new PresenceRequest { Channel = "chat:x" }).ResponseAsync);
        var disconnect = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Disconnect, null, client.Options(deadline), new DisconnectRequest { UserId = "zoe" }).ResponseAsync);
        using var subscribe = client.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, client.Options(deadline), new SubscribeRequest { Channels = { "room:x" } });
        var subscribed = await Assert.ThrowsAsync<RpcException>(() => subscribe.ResponseStream.MoveNext(default));

        Assert.All([publish, history, presence, disconnect, subscribed], e => Assert.Equal(StatusCode.Unavailable, e.StatusCode));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "publish"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "history"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "presence"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "disconnect"));
        Assert.Equal(1, metrics.Sum("broker.engine.unavailable", "subscribe"));
    }
}
