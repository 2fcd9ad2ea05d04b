using Broker.FunctionalTests.Infrastructure;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>Bad input gets a clear error (or the documented close) and costs nothing else.</summary>
public class BadInputTests
{
    [Theory]
    [InlineData("not json at all", null)]
    [InlineData("[1,2,3]", null)]
    [InlineData("""{"id":4}""", 4L)]
    [InlineData("""{"type":"teleport","id":5}""", 5L)]
    [InlineData("""{"type":"subscribe","id":6}""", 6L)]
    [InlineData("""{"type":"subscribe","id":7,"channel":"bad channel"}""", 7L)]
    [InlineData("""{"type":"subscribe","id":8,"channel":42}""", 8L)]
    [InlineData("""{"type":"publish","id":9,"channel":"room:x","event":"bad event!","data":1}""", 9L)]
    [InlineData("""{"type":"publish","id":10,"channel":"room:x"}""", 10L)]
    [InlineData("""{"type":"send","event":"chat.post","data":{}}""", null)]
    [InlineData("""{"type":"history","id":11,"channel":"room:x","limit":-1}""", 11L)]
    [InlineData("""{"type":"subscribe","id":12,"channel":"room:x","since":{"epoch":1}}""", 12L)]
    [InlineData("""{"type":"ping","id":1.5}""", null)]
    public async Task ABadFrameIsABadRequestAndTheSocketStays(string frame, long? id)
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync(frame);
        var error = await socket.ExpectErrorAsync("bad_request");
        if (id is not null)
        {
            Assert.Equal(id, error.GetProperty("id").GetInt64());
        }

        await socket.ExpectAliveAsync();
    }

    [Theory]
    [InlineData("""{"type":"subscribe","id":1,"channel":"bad channel"}""", "bad_request", "'bad channel' is not a channel name. A channel name is 1-255 characters of")]
    [InlineData("""{"type":"publish","id":2,"channel":"room:x","event":"bad event!","data":1}""", "bad_request", "'bad event!' is not an event name. An event name is 1-64 characters of")]
    [InlineData("""{"type":"teleport","id":3}""", "bad_request", "the types are hello, subscribe, unsubscribe, publish, send, history, presence, ping and pong")]
    [InlineData("""{"type":"subscribe","id":4,"channel":"nowhere:x"}""", "not_found", "namespaces are set under Broker:Namespaces")]
    [InlineData("""{"type":"publish","id":5,"channel":"room:x","data":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}""", "too_large", "at most 128 are allowed (Broker:MaxMessageBytes)")]
    public async Task AnErrorSaysWhatIsAllowedInPlainJson(string frame, string code, string expected)
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:MaxMessageBytes", "128")));
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync(frame);
        var error = await socket.ExpectErrorAsync(code);

        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        // As sent: apostrophes are apostrophes, not \u0027 (an encoder that escapes only what JSON and HTML need).
        Assert.DoesNotContain("\\u0027", error.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("'", error.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyMessageIsIgnored()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.Raw.SendAsync(ReadOnlyMemory<byte>.Empty, System.Net.WebSockets.WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        await socket.ExpectAliveAsync();
    }

    [Fact]
    public async Task AMessageSentInFragmentsIsReadAsOne()
    {
        // The reader waits between messages without a buffer and rents one when a frame arrives: the rest
        // of a fragmented message must still land in that same buffer.
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        var frame = System.Text.Encoding.UTF8.GetBytes($$"""{"type":"publish","id":7,"channel":"room:f","data":"{{new string('y', 10_000)}}"}""");
        for (int start = 0; start < frame.Length; start += 3000)
        {
            int count = Math.Min(3000, frame.Length - start);
            await socket.Raw.SendAsync(frame.AsMemory(start, count), System.Net.WebSockets.WebSocketMessageType.Text, endOfMessage: start + count == frame.Length, CancellationToken.None).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        }

        Assert.Equal(7, (await socket.ExpectAsync("ack")).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task ABinaryMessageCloses1003()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendBinaryAsync([1, 2, 3]);
        Assert.Equal(1003, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task AMessageOverTheSocketLimitCloses1009()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:WebSocket:MaxMessageBytes", "4096")));
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync($$"""{"type":"publish","channel":"room:x","data":"{{new string('x', 5000)}}"}""");
        Assert.Equal(1009, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task DataOverMaxMessageBytesIsTooLargeAndTheSocketStays()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:MaxMessageBytes", "1000")));
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync($$"""{"type":"publish","id":4,"channel":"room:x","data":"{{new string('x', 1000)}}"}""");
        await socket.ExpectErrorAsync("too_large", id: 4);
        await socket.ExpectAliveAsync();
    }

    [Fact]
    public async Task ABadFrameAmongGoodOnesFailsAloneAndInOrder()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync("""{"type":"ping"}""", "{oops", """{"type":"subscribe","id":2,"channel":"room:a"}""");
        await socket.ExpectAsync("pong");
        await socket.ExpectErrorAsync("bad_request");
        await socket.ExpectAsync("subscribed");
    }

    [Fact]
    public async Task BadInputFromOneClientDoesNotDisturbAnother()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var (good, _) = await server.ConnectAsync("bob");
        var (bad, _) = await server.ConnectAsync("mallory");
        await using var _1 = good;
        await using var _2 = bad;
        await good.SubscribeAsync("room:room");
        await bad.SendBinaryAsync([0xff]);
        Assert.Equal(1003, await bad.ExpectCloseAsync());

        await using var publisher = await server.ConnectSocketAsync("carol");
        await publisher.PublishAsync("room:room", new { text = "still here" });
        var pub = await good.ExpectAsync("pub");
        Assert.Equal("still here", pub.GetProperty("data").GetProperty("text").GetString());
    }
}
