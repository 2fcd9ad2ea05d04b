using System.Text;
using Broker.Core.Handlers;
using Grpc.Core;
using Broker.Testing;
using Broker.V1;
using Google.Protobuf;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Grpc;

/// <summary>The broker.v1.Broker service at the wire level, against the real broker on real Kestrel (HTTP/2).</summary>
public class BrokerServiceTests
{
    private static PublishRequest Publish(string channel, string json, ulong requestId = 0, string? key = null) => new()
    {
        Channel = channel,
        Data = ByteString.CopyFromUtf8(json),
        RequestId = requestId,
        IdempotencyKey = key ?? string.Empty,
    };

    [Fact]
    public async Task PublishNumbersAndIsDeliveredWithItsSharedBytes()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var subscribe = client.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, client.Options(), new SubscribeRequest { Channels = { "room:a" } });
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        var subscribed = subscribe.ResponseStream.Current.Subscribed;
        Assert.Equal("room:a", subscribed.Channel);
        Assert.Equal(0ul, subscribed.Position.Offset);

        var reply = await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:a", """{"n":1}""", requestId: 7)).ResponseAsync;
        Assert.Equal(7ul, reply.RequestId);
        Assert.Equal(1ul, reply.Offset);
        Assert.Equal(subscribed.Position.Epoch, reply.Epoch);

        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        var publication = subscribe.ResponseStream.Current.Publication;
        Assert.Equal("room:a", publication.Channel);
        Assert.Equal("message", publication.Event);
        Assert.Equal("""{"n":1}""", publication.Data.ToStringUtf8());
        Assert.Equal(1ul, publication.Offset);
        Assert.True(publication.TimeUnixMs > 0);
        Assert.Null(publication.From);
    }

    [Theory]
    [InlineData("bad channel", "1", StatusCode.InvalidArgument)]
    [InlineData("room:a", "not json", StatusCode.InvalidArgument)]
    [InlineData("room:a", "", StatusCode.InvalidArgument)]
    [InlineData("nowhere:a", "1", StatusCode.NotFound)]
    public async Task ABadPublishFailsWithItsStatus(string channel, string json, StatusCode expected)
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish(channel, json)).ResponseAsync);
        Assert.Equal(expected, error.StatusCode);
    }

    [Fact]
    public async Task DataOverMaxMessageBytesIsResourceExhausted()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:MaxMessageBytes", "100")));
        using var client = new GrpcTestClient(server);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:a", "\"" + new string('x', 200) + "\"")).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task WithKeysConfiguredACallNeedsOne()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Grpc:ApiKeys:0", "s3cret")));
        using var none = new GrpcTestClient(server);
        using var wrong = new GrpcTestClient(server, "guess");
        using var right = new GrpcTestClient(server, "s3cret");
        foreach (var client in new[] { none, wrong })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:a", "1")).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }

        Assert.Equal(1ul, (await right.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, right.Options(), Publish("room:a", "1")).ResponseAsync).Offset);
    }

    [Fact]
    public async Task WithoutKeysTheBrokerSaysAtStartThatItServesLoopbackOnly()
    {
        await using var server = await BrokerServer.StartAsync(With());
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "LoopbackOnly");
        using var client = new GrpcTestClient(server);
        Assert.Equal(1ul, (await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:a", "1")).ResponseAsync).Offset);
    }

    [Fact]
    public async Task PublishStreamRepliesInOrderAndABadRequestFailsOnlyItsReply()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var call = client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, null, client.Options());
        for (ulong i = 1; i <= 100; i++)
        {
            await call.RequestStream.WriteAsync(i == 50 ? Publish("bad channel", "1", i) : Publish("room:s", i.ToString(System.Globalization.CultureInfo.InvariantCulture), i));
        }

        await call.RequestStream.CompleteAsync();
        ulong expectedOffset = 1;
        for (ulong i = 1; i <= 100; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
            var reply = call.ResponseStream.Current;
            Assert.Equal(i, reply.RequestId);
            if (i == 50)
            {
                Assert.Equal("bad_request", reply.ErrorCode);
                Assert.False(string.IsNullOrEmpty(reply.ErrorMessage));
                continue;
            }

            Assert.Equal(string.Empty, reply.ErrorCode);
            Assert.Equal(expectedOffset++, reply.Offset);
        }

        Assert.False(await call.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task ARepeatedIdempotencyKeyPublishesOnce()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        var first = await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:i", "1", key: "k")).ResponseAsync;
        var again = await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:i", "2", key: "k")).ResponseAsync;
        Assert.Equal(first.Offset, again.Offset);
        Assert.Equal(first.Epoch, again.Epoch);
        var history = await client.Invoker.AsyncUnaryCall(BrokerMethods.History, null, client.Options(), new HistoryRequest { Channel = "room:i" }).ResponseAsync;
        Assert.Single(history.Publications);
    }

    [Fact]
    public async Task SubscribeSendsSubscribedPerEntryInOrderThenReplaysAndDedupesPrefixMatches()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        var first = await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:x", "1")).ResponseAsync;
        await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:x", "2")).ResponseAsync;

        var request = new SubscribeRequest { Channels = { "room:*", "room:x" } };
        request.Since["room:x"] = new V1.StreamPosition { Epoch = first.Epoch, Offset = 0 };
        using var subscribe = client.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, client.Options(), request);
        var stream = subscribe.ResponseStream;
        async Task<Delivery> Next()
        {
            Assert.True(await stream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
            return stream.Current;
        }

        var prefix = (await Next()).Subscribed;
        Assert.Equal("room:*", prefix.Channel);
        Assert.Null(prefix.Position);
        Assert.False(prefix.Recovered);
        var exact = (await Next()).Subscribed;
        Assert.Equal("room:x", exact.Channel);
        Assert.True(exact.Recovered);
        Assert.Equal(2ul, exact.Position.Offset);
        Assert.Equal(1ul, (await Next()).Publication.Offset);
        Assert.Equal(2ul, (await Next()).Publication.Offset);

        await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:x", "3")).ResponseAsync;
        await client.Invoker.AsyncUnaryCall(BrokerMethods.Publish, null, client.Options(), Publish("room:y", "1")).ResponseAsync;
        var live = await Next();
        Assert.Equal(("room:x", 3ul), (live.Publication.Channel, live.Publication.Offset));  // once, though both entries match
        var other = await Next();
        Assert.Equal(("room:y", 1ul), (other.Publication.Channel, other.Publication.Offset));
    }

    [Fact]
    public async Task AReplayLongerThanOneFlushIsWrittenWholeBeforeAnythingLive()
    {
        // The drain loop flushes every 256 deliveries; a replay is not in the queue, so the loop must go on
        // reading it without waiting for the queue (it once waited, and a long replay stalled until the
        // next publication).
        const int kept = 900;
        await using var server = await BrokerServer.StartAsync(With(("Broker:Namespaces:long:HistorySize", "1000")));
        using var client = new GrpcTestClient(server);
        await Broker.FunctionalTests.Infrastructure.BrokerClients.FloodAsync(server, "long:replay", kept, payloadBytes: 10);
        var position = await client.Invoker.AsyncUnaryCall(BrokerMethods.History, null, client.Options(), new HistoryRequest { Channel = "long:replay", Limit = 1 }).ResponseAsync;

        var request = new SubscribeRequest { Channels = { "long:replay" } };
        request.Since["long:replay"] = new V1.StreamPosition { Epoch = position.Position.Epoch, Offset = 0 };
        using var subscribe = client.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, client.Options(TimeSpan.FromSeconds(60)), request);
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.True(subscribe.ResponseStream.Current.Subscribed.Recovered);
        for (ulong expected = 1; expected <= kept; expected++)
        {
            Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
            Assert.Equal(expected, subscribe.ResponseStream.Current.Publication.Offset);
        }
    }

    [Fact]
    public async Task ASubscriberThatFallsBehindGetsLaggedWithTheLastDroppedPosition()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var subscribe = client.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, client.Options(TimeSpan.FromSeconds(60)), new SubscribeRequest { Channels = { "room:flood" }, Buffer = 4 });
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        // The reader waits while a flood far bigger than the HTTP/2 windows is published.
        const int total = 3000;
        await Broker.FunctionalTests.Infrastructure.BrokerClients.FloodAsync(server, "room:flood", total);

        ulong expected = 1, delivered = 0, dropped = 0;
        while (expected <= total)
        {
            Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
            var delivery = subscribe.ResponseStream.Current;
            if (delivery.KindCase == Delivery.KindOneofCase.Lagged)
            {
                Assert.Equal(expected + delivery.Lagged.Dropped - 1, delivery.Lagged.Position.Offset);
                dropped += delivery.Lagged.Dropped;
                expected = delivery.Lagged.Position.Offset + 1;
                continue;
            }

            Assert.Equal(expected++, delivery.Publication.Offset);
            delivered++;
        }

        Assert.True(dropped > 0);
        Assert.Equal((ulong)total, delivered + dropped);
    }

    [Fact]
    public async Task HandleTakesABrowserSendAndItsReplyReachesTheBrowser()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var handle = client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, client.Options(TimeSpan.FromSeconds(60)));
        await handle.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = "chat", Events = { "chat.*" } } });
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal("chat", handle.ResponseStream.Current.Registered.Group);
        Assert.False(string.IsNullOrEmpty(handle.ResponseStream.Current.Registered.HandlerId));

        var (socket, welcome) = await Broker.FunctionalTests.Infrastructure.BrokerClients.ConnectAsync(server, "alice");
        await using var _ = socket;
        await socket.SendAsync("""{"type":"send","id":9,"event":"chat.post","data":{"text":"hi"}}""");

        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        var inbound = handle.ResponseStream.Current.Inbound;
        Assert.Equal("chat.post", inbound.Event);
        Assert.Equal("""{"text":"hi"}""", inbound.Data.ToStringUtf8());
        Assert.Equal("alice", inbound.From.UserId);
        Assert.Equal(welcome.GetProperty("sessionId").GetString(), inbound.From.SessionId);
        Assert.True(inbound.DeadlineUnixMs > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        await handle.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = inbound.InboundId, Data = ByteString.CopyFromUtf8("""{"ok":true}""") } });
        var reply = await socket.ExpectAsync("reply");
        Assert.Equal(9, reply.GetProperty("id").GetInt64());
        Assert.True(reply.GetProperty("data").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task AHandleStreamMustRegisterFirst()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        using var handle = client.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, client.Options());
        await handle.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = 1 } });
        var error = await Assert.ThrowsAsync<RpcException>(() => handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task IssueTicketPastALimitIsResourceExhausted()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Tickets:MaxOutstanding", "1")));
        using var client = new GrpcTestClient(server);
        await client.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, client.Options(), new IssueTicketRequest { UserId = "bob" }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout);

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, client.Options(), new IssueTicketRequest { UserId = "bob" }).ResponseAsync.WaitAsync(BrokerServer.DefaultTimeout));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("Broker:Tickets:MaxOutstanding", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueTicketMakesOrFindsSessionsAndRefusesUnknownOnes()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        var fresh = await client.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, client.Options(), new IssueTicketRequest { UserId = "bob" }).ResponseAsync;
        Assert.False(string.IsNullOrEmpty(fresh.Ticket));
        Assert.False(string.IsNullOrEmpty(fresh.SessionId));
        Assert.True(fresh.ExpiresUnixMs > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var same = await client.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, client.Options(), new IssueTicketRequest { SessionId = fresh.SessionId }).ResponseAsync;
        Assert.Equal(fresh.SessionId, same.SessionId);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, client.Options(), new IssueTicketRequest { SessionId = "no-such-session" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var badIp = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.IssueTicket, null, client.Options(), new IssueTicketRequest { ClientIp = "not an ip" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badIp.StatusCode);

        // The ticket works for a browser, bound to the session and user.
        await using var socket = await Broker.FunctionalTests.Infrastructure.TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(new { type = "hello", ticket = fresh.Ticket });
        var welcome = await socket.ExpectAsync("welcome");
        Assert.Equal(fresh.SessionId, welcome.GetProperty("sessionId").GetString());
        Assert.Equal("bob", welcome.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task DisconnectClosesTheUsersSocketsAndCountsThem()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        var (a, _) = await Broker.FunctionalTests.Infrastructure.BrokerClients.ConnectAsync(server, "carol");
        var (b, _) = await Broker.FunctionalTests.Infrastructure.BrokerClients.ConnectAsync(server, "carol");
        await using var _1 = a;
        await using var _2 = b;
        var reply = await client.Invoker.AsyncUnaryCall(BrokerMethods.Disconnect, null, client.Options(), new DisconnectRequest { UserId = "carol", Reason = "bye", Reconnect = true }).ResponseAsync;
        Assert.Equal(2u, reply.Connections);
        foreach (var socket in new[] { a, b })
        {
            var disconnect = await socket.ExpectAsync("disconnect");
            Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
            Assert.Equal(4002, await socket.ExpectCloseAsync());
        }

        var none = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Disconnect, null, client.Options(), new DisconnectRequest()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, none.StatusCode);
    }

    [Fact]
    public async Task PresenceShowsEverySessionToBackends()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var client = new GrpcTestClient(server);
        var (user, _) = await Broker.FunctionalTests.Infrastructure.BrokerClients.ConnectAsync(server, "dave");
        var (anonymous, anonymousWelcome) = await Broker.FunctionalTests.Infrastructure.BrokerClients.ConnectAsync(server, userId: null);
        await using var _1 = user;
        await using var _2 = anonymous;
        await Broker.FunctionalTests.Infrastructure.BrokerClients.SubscribeAsync(user, "chat:p");
        await Broker.FunctionalTests.Infrastructure.BrokerClients.SubscribeAsync(anonymous, "chat:p");
        var presence = await client.Invoker.AsyncUnaryCall(BrokerMethods.Presence, null, client.Options(), new PresenceRequest { Channel = "chat:p" }).ResponseAsync;
        Assert.Equal(2, presence.Members.Count);
        Assert.Contains(presence.Members, m => m.UserId == "dave" && m.Connections == 1);
        Assert.Contains(presence.Members, m => m.SessionId == anonymousWelcome.GetProperty("sessionId").GetString() && m.UserId == string.Empty);

        var off = await Assert.ThrowsAsync<RpcException>(() => client.Invoker.AsyncUnaryCall(BrokerMethods.Presence, null, client.Options(), new PresenceRequest { Channel = "room:p" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, off.StatusCode);
    }
}
