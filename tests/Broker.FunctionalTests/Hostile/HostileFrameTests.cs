using System.Text;
using Broker.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The fuzz's inputs one by one, with exact answers: what the fuzz found (kept as regression cases), the limits at
/// their edges, and the WebSocket framing errors, which the WebSocket layer answers by RFC 6455 (docs/protocol.md).
/// </summary>
public sealed class HostileFrameTests
{
    [Fact]
    public async Task AMessageOf40000Frames_GetsAnAnswerForEach_AndTheSocketStays()
    {
        // Regression (fuzz seed 1): more than 1,024 frames in one message closed a reading client with 1008.
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await HelloAsync(server);
        const int count = 40_000;
        await socket.SendTextAsync(string.Join('\n', Enumerable.Repeat("{}", count)));
        await socket.SendTextAsync("""{"type":"history","id":77,"channel":"room:sync","limit":1}""");

        var frames = await socket.ReadUntilContainsAsync("\"id\":77,");
        Assert.Equal(count, frames.Count(static f => f.Contains("\"code\":\"bad_request\"", StringComparison.Ordinal)));
        AssertNoErrorLogged(server);
    }

    [Fact]
    public async Task AResumeOf3000Channels_SubscribesTheFirst128_AndAnswersEveryOtherWithLimitExceeded()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await RawWebSocket.ConnectAsync(server);
        var resume = string.Join(',', Enumerable.Range(0, 3000).Select(static i => $"\"room:c{i}\":{{\"epoch\":\"e\",\"offset\":1}}"));
        var ticket = await server.IssueTicketAsync("alice");
        await socket.SendTextAsync("{\"type\":\"hello\",\"id\":1,\"ticket\":\"" + ticket + "\",\"resume\":{" + resume + "}}");
        await socket.SendTextAsync("""{"type":"history","id":77,"channel":"room:sync","limit":1}""");

        var frames = await socket.ReadUntilContainsAsync("\"id\":77,");
        Assert.Equal(128, frames.Count(static f => f.StartsWith("{\"type\":\"subscribed\"", StringComparison.Ordinal) && f.Contains("room:c", StringComparison.Ordinal)));
        Assert.Equal(2872, frames.Count(static f => f.Contains("\"code\":\"limit_exceeded\"", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(65_536, "ack")]
    [InlineData(65_537, "too_large")]
    public async Task DataAtTheLimitIsPublished_AndOneByteOverIsTooLarge(int dataBytes, string answer)
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await HelloAsync(server);
        await socket.SendTextAsync($$"""{"type":"publish","id":5,"channel":"room:x","data":"{{new string('d', dataBytes - 2)}}"}""");
        var frames = await socket.ReadUntilContainsAsync("\"id\":5");
        Assert.Contains(answer, frames.Single(), StringComparison.Ordinal);
        await socket.SendTextAsync("""{"type":"ping"}""");
        await socket.ReadUntilAsync("pong");
    }

    [Theory]
    [InlineData("""{"type":"history","id":1e400,"channel":"room:x"}""", "bad_request")]
    [InlineData("""{"type":"history","id":9223372036854775808,"channel":"room:x"}""", "bad_request")]
    [InlineData("""{"type":"history","id":-0,"channel":"room:x","limit":1}""", "\"type\":\"history\",\"id\":0,")]
    [InlineData("""{"type":"publish","id":3,"channel":"room:x","data":1e400}""", "\"type\":\"ack\",\"id\":3,")]
    [InlineData("""{"type":"publish","id":3,"channel":"room:x","data":"\ud800"}""", "\"type\":\"ack\",\"id\":3,")]
    [InlineData("""{"type":"publish","id":3,"channel":"room:x","data":{"a":1},"data":2}""", "\"type\":\"ack\",\"id\":3,")]
    public async Task AwkwardNumbersAndStrings_GetTheirAnswer_AndTheSocketStays(string frame, string answer)
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await HelloAsync(server);
        await socket.SendTextAsync(frame);
        await socket.SendTextAsync("""{"type":"history","id":77,"channel":"room:sync","limit":1}""");
        var frames = await socket.ReadUntilContainsAsync("\"id\":77,");
        Assert.Contains(frames, f => f.Contains(answer, StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonNested10000Deep_IsABadRequest()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await HelloAsync(server);
        await socket.SendTextAsync("{\"type\":\"publish\",\"id\":4,\"channel\":\"room:x\",\"data\":" + new string('[', 10_000) + new string(']', 10_000) + "}");
        Assert.Contains("bad_request", (await socket.ReadUntilAsync("error")).Single(), StringComparison.Ordinal);
        await socket.SendTextAsync("""{"type":"ping"}""");
        await socket.ReadUntilAsync("pong");
    }

    [Fact]
    public async Task AFragmentedMessage_WithPingsAndPongsBetweenItsFragments_IsReadAsOne()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await HelloAsync(server);
        await socket.SendFrameAsync(RawWebSocket.Text, """{"type":"pub"""u8.ToArray(), fin: false);
        await socket.SendFrameAsync(RawWebSocket.Ping, "p"u8.ToArray());
        await socket.SendFrameAsync(RawWebSocket.Continuation, Encoding.UTF8.GetBytes("lish\",\"id\":5,\"channel\":\"room:x\","), fin: false);
        await socket.SendFrameAsync(RawWebSocket.Pong, "q"u8.ToArray());
        await socket.SendFrameAsync(RawWebSocket.Continuation, "\"data\":1}"u8.ToArray());

        // The ping is answered by the WebSocket layer with a pong control frame (RFC 6455), then the message.
        var pong = await socket.ReceiveFrameAsync(answerPings: false);
        Assert.Equal(RawWebSocket.Pong, pong?.Opcode);
        Assert.Contains("\"type\":\"ack\",\"id\":5", (await socket.ReadUntilAsync("ack")).Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("invalid UTF-8", 1007)]
    [InlineData("close 999", 1002)]
    [InlineData("close 1005", 1002)]
    [InlineData("close 5000", 1002)]
    [InlineData("close 4000", 4000)]
    [InlineData("reserved opcode", 1002)]
    [InlineData("reserved bit", 1002)]
    [InlineData("unmasked", 1002)]
    [InlineData("ping of 126 bytes", 1002)]
    [InlineData("fragmented ping", 1002)]
    [InlineData("continuation first", 1002)]
    [InlineData("1 MiB text", 1009)]
    [InlineData("1 MiB binary", 1003)]
    public async Task FramingAbuse_GetsItsCloseCode_CountedByCode_AndNoErrorLog(string what, int code)
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        await using var socket = await HelloAsync(server);
        await (what switch
        {
            "invalid UTF-8" => socket.SendFrameAsync(RawWebSocket.Text, new byte[] { (byte)0x7B, 0xC3, 0x28, (byte)0x7D }),
            "close 999" => socket.SendCloseAsync(999),
            "close 1005" => socket.SendCloseAsync(1005),
            "close 5000" => socket.SendCloseAsync(5000),
            "close 4000" => socket.SendCloseAsync(4000, "bye"),
            "reserved opcode" => socket.SendFrameAsync(3, "x"u8.ToArray()),
            "reserved bit" => socket.SendFrameAsync(RawWebSocket.Text, """{"type":"ping"}"""u8.ToArray(), rsv: 4),
            "unmasked" => socket.SendFrameAsync(RawWebSocket.Text, """{"type":"ping"}"""u8.ToArray(), masked: false),
            "ping of 126 bytes" => socket.SendFrameAsync(RawWebSocket.Ping, new byte[126]),
            "fragmented ping" => socket.SendFrameAsync(RawWebSocket.Ping, new byte[3], fin: false),
            "continuation first" => socket.SendFrameAsync(RawWebSocket.Continuation, "x"u8.ToArray()),
            "1 MiB text" => socket.SendFrameAsync(RawWebSocket.Text, Encoding.UTF8.GetBytes("\"" + new string('a', 1 << 20) + "\"")),
            _ => socket.SendFrameAsync(RawWebSocket.Binary, new byte[1 << 20]),
        });

        Assert.Equal(code, await socket.ExpectCloseAsync());
        // 1002 and 1007 are the WebSocket layer's own closes: counted all the same (they were not).
        string tag = code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await metrics.WaitForSumAsync("broker.websocket.closes", 1, tag);
        Assert.Equal(1, metrics.Sum("broker.websocket.closes", tag));
        AssertNoErrorLogged(server);
    }

    private static async Task<RawWebSocket> HelloAsync(BrokerServer server)
    {
        var socket = await RawWebSocket.ConnectAsync(server);
        await socket.SendTextAsync($$"""{"type":"hello","id":1,"ticket":"{{await server.IssueTicketAsync("alice")}}"}""");
        await socket.ReadUntilAsync("welcome");
        return socket;
    }

    private static void AssertNoErrorLogged(BrokerServer server) =>
        Assert.DoesNotContain(server.Log.Entries, static e => e.Level >= LogLevel.Error);
}
