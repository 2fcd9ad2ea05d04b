using System.Net.WebSockets;
using System.Text;
using Broker.Core;
using Broker.Engines;
using Broker.FunctionalTests.Infrastructure;
using Broker.WebSockets;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>ping/pong, rate limits, slow consumers, lagged, and backend disconnects.</summary>
public class LivenessTests
{
    [Fact]
    public async Task TheServerPingsAndAClientThatAnswersStays()
    {
        await using var server = await BrokerServer.StartAsync(With(
            ("Broker:WebSocket:PingInterval", "00:00:00.300"), ("Broker:WebSocket:PongTimeout", "00:00:00.200")));
        var (socket, welcome) = await server.ConnectAsync();
        await using var _1 = socket;
        Assert.Equal(0.3, welcome.GetProperty("pingInterval").GetDouble(), 3);
        for (int i = 0; i < 3; i++)
        {
            await socket.ExpectAsync("ping");
            await socket.SendAsync("""{"type":"pong"}""");
        }

        await socket.ExpectAliveAsync();
    }

    [Fact]
    public async Task AClientThatSendsNothingAfterAPingIsClosed1008()
    {
        await using var server = await BrokerServer.StartAsync(With(
            ("Broker:WebSocket:PingInterval", "00:00:00.300"), ("Broker:WebSocket:PongTimeout", "00:00:00.200")));
        await using var socket = await server.ConnectSocketAsync();
        Assert.Equal(1008, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task AClientPingGetsAPong()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.ExpectAliveAsync();
    }

    [Fact]
    public async Task PublishesOverTheRateAreRefusedAndAbuseIsClosed1008()
    {
        var clock = new ManualTimeProvider();
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:PublishRate", "2")), clock);
        await using var socket = await server.ConnectSocketAsync();

        // The bucket starts full with twice the rate: 4 go through, the 5th is refused.
        for (int i = 0; i < 4; i++)
        {
            await socket.PublishAsync("room:r", i, id: 10 + i);
        }

        await socket.SendAsync("""{"type":"publish","id":20,"channel":"room:r","data":1}""");
        await socket.ExpectErrorAsync("rate_limited", id: 20);

        // Keep flooding, answer by answer so the server reads each frame at the clock the test set: a
        // token trickles in now and then, but the refusals never stop for a whole second.
        int closeCode = 0;
        for (int i = 0; i < 60 && closeCode == 0; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(200));
            await socket.SendAsync($$"""{"type":"publish","id":{{100 + (2 * i)}},"channel":"room:r","data":1}""", $$"""{"type":"publish","id":{{101 + (2 * i)}},"channel":"room:r","data":1}""");
            try
            {
                for (int answer = 0; answer < 2; answer++)
                {
                    var frame = await socket.ReceiveAsync();
                    Assert.Contains(frame.GetProperty("type").GetString(), new[] { "ack", "error" });
                }
            }
            catch (WebSocketClosedException closed)
            {
                closeCode = (int)closed.Status!.Value;
            }
        }

        // Refused for over 5 s of the broker's clock: closed, and no sooner than that.
        Assert.Equal(1008, closeCode);
    }

    [Fact]
    public async Task ASubscriberThatFallsBehindGetsLaggedThenTheRestInOrder()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("tiny:feed");  // a 4-message queue

        // The client reads nothing while a burst far bigger than the socket's buffers is published:
        // the writer blocks on the full socket, the queue overflows and drops its oldest.
        const int total = 3000;
        await server.FloodAsync("tiny:feed", total);

        ulong expected = 1, delivered = 0, dropped = 0;
        bool sawLagged = false;
        while (expected <= total)
        {
            var frame = await socket.ReceiveAsync();
            string type = frame.GetProperty("type").GetString()!;
            if (type == "lagged")
            {
                sawLagged = true;
                ulong count = frame.GetProperty("dropped").GetUInt64();
                ulong lastDropped = frame.GetProperty("offset").GetUInt64();
                Assert.Equal(expected + count - 1, lastDropped);  // the jump it announces is exactly the gap
                expected = lastDropped + 1;
                dropped += count;
                continue;
            }

            Assert.Equal("pub", type);
            Assert.Equal(expected, frame.GetProperty("offset").GetUInt64());  // in order, nothing unannounced missing
            expected++;
            delivered++;
        }

        Assert.True(sawLagged);
        Assert.Equal((ulong)total, delivered + dropped);
    }

    [Fact]
    public async Task UnderTheDisconnectPolicyASlowSubscriberGetsDisconnect4001()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("strict:feed");  // a 4-message queue that disconnects when full
        await server.FloodAsync("strict:feed");

        var disconnect = await socket.SkipToAsync("disconnect");
        Assert.Equal(4001, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.Equal(4001, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task ASocketWhoseWritesBlockPastTheDeadlineIsClosedAsASlowConsumer()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:WriteTimeout", "00:00:00.500")));
        using var metrics = new ServerMetrics(server);
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("big:feed");
        var registry = server.Services.GetRequiredService<Broker.Core.ConnectionRegistry>();
        var hub = server.Services.GetRequiredService<Hub>();

        // The client reads nothing: once the socket's buffers and Kestrel's output pipe fill, the writer's send
        // waits in Kestrel's flush, passes the deadline (armed only because it did not complete at once), and the
        // broker aborts the connection, which releases the send, counting what it could not deliver.
        var payload = Encoding.UTF8.GetBytes("\"" + new string('x', 8000) + "\"");
        for (int i = 0; i < 5000 && registry.Count > 0; i++)
        {
            await hub.PublishAsync(new PublishCommand("big:feed", "message", payload), default);
        }

        // The drop reason proves the release, not the time: the writer marks the socket a slow consumer only once
        // its send has ended, and the queue is counted when the connection ends, which waits for the writer, or
        // gives up on a writer that never ends (WriteTimeout plus the close handshake's 5 s) and then counts the
        // queue as dropped on close.
        await PubSubTests.WaitUntil(() => registry.Count == 0);
        await metrics.WaitForSumAsync("broker.messages.dropped", 1, "slow_consumer").WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Equal(0, metrics.Sum("broker.messages.dropped", "closed"));
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "SlowConsumer");

        // Cut, not closed: the server aborted the TCP connection without a closing handshake, so the client, once
        // it reads what was buffered, finds the connection gone.
        var buffer = new byte[64 * 1024];
        var drained = Assert.ThrowsAsync<WebSocketException>(async () =>
        {
            while (true)
            {
                var result = await socket.Raw.ReceiveAsync(buffer, CancellationToken.None);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            }
        });
        await drained.WaitAsync(BrokerServer.DefaultTimeout);
    }

    [Fact]
    public async Task ABackendDisconnectClosesTheSessionsSockets4002()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (first, welcome) = await server.ConnectAsync("alice");
        var (other, _) = await server.ConnectAsync("bob");
        await using var _1 = first;
        await using var _2 = other;
        var registry = server.Services.GetRequiredService<Broker.Core.ConnectionRegistry>();
        int closed = registry.Disconnect(welcome.GetProperty("sessionId").GetString(), null, "kicked", reconnect: false);
        Assert.Equal(1, closed);

        var disconnect = await first.ExpectAsync("disconnect");
        Assert.Equal(4002, disconnect.GetProperty("code").GetInt32());
        Assert.Equal("kicked", disconnect.GetProperty("reason").GetString());
        Assert.False(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.Equal(4002, await first.ExpectCloseAsync());
        await other.ExpectAliveAsync();
    }
}
