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
/// Two real brokers (Kestrel on loopback) on one private redis-server with <c>Broker:Engine=Redis</c>: what
/// crosses nodes on the engine's control path (a <c>Disconnect</c>, a <c>send</c> and its handler), and
/// the unsolicited <c>subscribed</c> when Redis lost a channel's history (PROTOCOL.md, "Running several
/// brokers (cluster)").
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisClusterControlTests(RedisServer redis)
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task DisconnectOnA_ClosesASocketOnB_AndAsReplyCountsIt()
    {
        var prefix = RedisServer.NewPrefix();
        await using var a = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        await using var b = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        var (onB, _) = await b.ConnectAsync("zoe");
        await using var _1 = onB;
        var (elsewhere, _) = await b.ConnectAsync("yann");
        await using var _2 = elsewhere;

        using var client = new GrpcTestClient(a);
        var reply = await client.Invoker.AsyncUnaryCall(BrokerMethods.Disconnect, null, client.Options(), new DisconnectRequest { UserId = "zoe", Reason = "banned", Reconnect = false }).ResponseAsync.WaitAsync(Timeout);

        Assert.Equal(1u, reply.Connections);
        var disconnect = await onB.ExpectAsync("disconnect");
        Assert.Equal("banned", disconnect.GetProperty("reason").GetString());
        Assert.False(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.Equal(4002, await onB.ExpectCloseAsync());
        await elsewhere.ExpectAliveAsync();
    }

    [Fact]
    public async Task ASendOnA_IsAnsweredByAHandlerOnB_AndWhenThatStreamDiesWithTheCall_ItGoesOnceToAHandlerOnA()
    {
        var prefix = RedisServer.NewPrefix();
        await using var a = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        await using var b = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        using var grpcA = new GrpcTestClient(a);
        using var grpcB = new GrpcTestClient(b);
        var (browser, welcome) = await a.ConnectAsync("alice");
        await using var _ = browser;

        // A handler on B only: Registered comes once A knows it.
        using var stopB = new CancellationTokenSource();
        var onB = grpcB.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, grpcB.Options(TimeSpan.FromSeconds(60)).WithCancellationToken(stopB.Token));
        await RegisterAsync(onB, "orders", "order.*");

        await browser.SendAsync("""{"type":"send","id":5,"event":"order.place","data":{"sku":"a1"}}""");
        var first = await NextInboundAsync(onB);
        Assert.Equal("order.place", first.Event);
        Assert.Equal("""{"sku":"a1"}""", first.Data.ToStringUtf8());
        Assert.Equal("alice", first.From.UserId);
        Assert.Equal(welcome.GetProperty("sessionId").GetString(), first.From.SessionId);
        await onB.RequestStream.WriteAsync(new HandlerMessage { Reply = new HandlerReply { InboundId = first.InboundId, Data = ByteString.CopyFromUtf8("""{"from":"b"}""") } });
        var answered = await browser.ExpectAsync("reply");
        Assert.Equal(5, answered.GetProperty("id").GetInt64());
        Assert.Equal("b", answered.GetProperty("data").GetProperty("from").GetString());

        // A second call is in flight on B when a handler of the group registers on A and B's stream dies:
        // the call goes to A's handler, once.
        await browser.SendAsync("""{"type":"send","id":6,"event":"order.cancel","data":{"sku":"a1"}}""");
        var inFlight = await NextInboundAsync(onB);
        Assert.Equal("order.cancel", inFlight.Event);
        using var onA = grpcA.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, grpcA.Options(TimeSpan.FromSeconds(60)));
        await RegisterAsync(onA, "orders", "order.*");
        await stopB.CancelAsync();
        onB.Dispose();

        var again = await NextInboundAsync(onA);
        Assert.Equal("order.cancel", again.Event);
        Assert.Equal("""{"sku":"a1"}""", again.Data.ToStringUtf8());
        Assert.Equal(inFlight.DeadlineUnixMs, again.DeadlineUnixMs);
        await onA.RequestStream.WriteAsync(new HandlerMessage { Reply = new HandlerReply { InboundId = again.InboundId, Data = ByteString.CopyFromUtf8("""{"from":"a"}""") } });
        var redelivered = await browser.ExpectAsync("reply");
        Assert.Equal(6, redelivered.GetProperty("id").GetInt64());
        Assert.Equal("a", redelivered.GetProperty("data").GetProperty("from").GetString());
    }

    [Fact]
    public async Task ASendOnAWhoseOnlyHandlerIsOnB_FailsUnavailable_WhenThatStreamDiesTwice()
    {
        var prefix = RedisServer.NewPrefix();
        await using var a = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        await using var b = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        using var grpcB = new GrpcTestClient(b);
        var (browser, _) = await a.ConnectAsync("alice");
        await using var _1 = browser;

        using var stop1 = new CancellationTokenSource();
        using var stop2 = new CancellationTokenSource();
        var first = grpcB.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, grpcB.Options(TimeSpan.FromSeconds(60)).WithCancellationToken(stop1.Token));
        var second = grpcB.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, grpcB.Options(TimeSpan.FromSeconds(60)).WithCancellationToken(stop2.Token));
        await RegisterAsync(first, "orders", "order.*");
        await RegisterAsync(second, "orders", "order.*");

        await browser.SendAsync("""{"type":"send","id":7,"event":"order.place","data":1}""");

        // Whichever of B's handlers got it dies; the call goes to the other one (its one redelivery), which dies too.
        var toFirst = NextInboundAsync(first);
        var toSecond = NextInboundAsync(second);
        var got = await Task.WhenAny(toFirst, toSecond).WaitAsync(Timeout);
        var (other, stopGot, stopOther) = got == toFirst ? (toSecond, stop1, stop2) : (toFirst, stop2, stop1);
        Assert.Equal("order.place", (await got).Event);
        await stopGot.CancelAsync();
        Assert.Equal("order.place", (await other.WaitAsync(Timeout)).Event);
        await stopOther.CancelAsync();
        first.Dispose();
        second.Dispose();

        await browser.ExpectErrorAsync("unavailable", id: 7);
    }

    [Fact]
    public async Task WhenRedisLostAChannelsHistory_EveryLiveSubscriberGetsAnUnsolicitedSubscribed_ThenTheNewEpoch()
    {
        var prefix = RedisServer.NewPrefix();
        await using var a = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        await using var b = await Readiness.StartReadyNodeAsync(Cluster(prefix));
        const string channel = "room:epoch";
        using var metricsA = new ServerMetrics(a);
        using var metricsB = new ServerMetrics(b);
        var (browser, _) = await a.ConnectAsync("alice");
        await using var _1 = browser;
        var subscribedA = await browser.SubscribeAsync(channel);
        using var grpcB = new GrpcTestClient(b);
        using var stream = grpcB.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, grpcB.Options(TimeSpan.FromSeconds(60)), new SubscribeRequest { Channels = { channel } });
        Assert.True(await stream.ResponseStream.MoveNext(default).WaitAsync(Timeout));
        Assert.Equal(channel, stream.ResponseStream.Current.Subscribed.Channel);

        var old = await grpcB.PublishAsync(channel, """{"n":1}""");
        Assert.Equal(1ul, (await browser.ExpectAsync("pub")).GetProperty("offset").GetUInt64());
        Assert.True(await stream.ResponseStream.MoveNext(default).WaitAsync(Timeout));
        Assert.Equal(1ul, stream.ResponseStream.Current.Publication.Offset);

        // Redis loses the channel (evicted, flushed, failed over to an empty replica); the next publish starts a new epoch.
        await redis.Connection.GetDatabase().KeyDeleteAsync([$"{prefix}:{{{channel}}}:meta", $"{prefix}:{{{channel}}}:stream"]).WaitAsync(Timeout);
        var fresh = await grpcB.PublishAsync(channel, """{"n":2}""");
        Assert.NotEqual(old.Epoch, fresh.Epoch);
        Assert.Equal(1ul, fresh.Offset);

        var told = await browser.ExpectAsync("subscribed");
        Assert.False(told.TryGetProperty("id", out _));
        Assert.Equal(channel, told.GetProperty("channel").GetString());
        Assert.Equal(fresh.Epoch, told.GetProperty("epoch").GetString());
        Assert.Equal(0ul, told.GetProperty("offset").GetUInt64());
        Assert.False(told.GetProperty("recovered").GetBoolean());
        var pub = await browser.ExpectAsync("pub");
        Assert.Equal(fresh.Epoch, pub.GetProperty("epoch").GetString());
        Assert.Equal(1ul, pub.GetProperty("offset").GetUInt64());
        Assert.NotEqual(subscribedA.GetProperty("epoch").GetString(), fresh.Epoch);

        Assert.True(await stream.ResponseStream.MoveNext(default).WaitAsync(Timeout));
        var subscribed = stream.ResponseStream.Current.Subscribed;
        Assert.NotNull(subscribed);
        Assert.Equal(channel, subscribed.Channel);
        Assert.Equal(fresh.Epoch, subscribed.Position.Epoch);
        Assert.Equal(0ul, subscribed.Position.Offset);
        Assert.False(subscribed.Recovered);
        Assert.True(await stream.ResponseStream.MoveNext(default).WaitAsync(Timeout));
        Assert.Equal(new V1.StreamPosition { Epoch = fresh.Epoch, Offset = 1 }, new V1.StreamPosition { Epoch = stream.ResponseStream.Current.Publication.Epoch, Offset = stream.ResponseStream.Current.Publication.Offset });

        // Each node counts the change of a channel it had subscribers of, once.
        Assert.Equal(1, metricsA.Sum("broker.epoch_changes"));
        Assert.Equal(1, metricsB.Sum("broker.epoch_changes"));
    }

    private static async Task RegisterAsync(AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent> handle, string group, string events)
    {
        await handle.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = group, Events = { events } } }).WaitAsync(Timeout);
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(Timeout));
        Assert.Equal(group, handle.ResponseStream.Current.Registered.Group);
    }

    private static async Task<Inbound> NextInboundAsync(AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent> handle)
    {
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(Timeout));
        Assert.Equal(HandlerEvent.KindOneofCase.Inbound, handle.ResponseStream.Current.KindCase);
        return handle.ResponseStream.Current.Inbound;
    }

    private Dictionary<string, string?> Cluster(string prefix) => With(
        ("Broker:Engine", "Redis"),
        ("Broker:Redis:Configuration", redis.Configuration),
        ("Broker:Redis:Prefix", prefix));
}
