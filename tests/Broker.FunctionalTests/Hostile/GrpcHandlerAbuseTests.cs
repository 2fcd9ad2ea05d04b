using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;
using Broker.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// <c>Handle</c> streams that misbehave (issue 14): one that registers and never replies, one that replies to ids it
/// was never given or replies twice. The browser gets what PROTOCOL.md says, each case is counted, the handler's
/// other calls and the subscriber beside it are unaffected, and nothing is logged at Error.
/// </summary>
public sealed class GrpcHandlerAbuseTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task AHandlerThatNeverReplies_LeavesTheBrowserATimeoutAtTheDeadline_Counted_AndItsLateReplyIsIgnored()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Handlers:Timeout", "00:00:01")));
        using var metrics = new ServerMetrics(server);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var invoker = channel.CreateCallInvoker();
        await using var watcher = await GrpcWatcher.StartAsync(server, invoker);
        using var mute = await RegisterAsync(invoker, "mute", "mute.*");
        var (socket, _) = await server.ConnectAsync("alice");
        await using var _1 = socket;

        await watcher.PublishAsync();
        var sent = DateTimeOffset.UtcNow;
        await socket.SendAsync("""{"type":"send","id":9,"event":"mute.ask","data":{}}""");
        var inbound = await NextInboundAsync(mute);
        var error = await socket.ExpectAsync("error");
        var waited = DateTimeOffset.UtcNow - sent;
        Assert.Equal(9, error.GetProperty("id").GetInt64());
        Assert.Equal("timeout", error.GetProperty("code").GetString());
        // At the deadline, not before it (the handler was given a second).
        Assert.True(waited >= TimeSpan.FromMilliseconds(900), $"answered after {waited}");
        Assert.True(DateTimeOffset.FromUnixTimeMilliseconds(inbound.DeadlineUnixMs) - sent <= TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, metrics.Records("broker.handler.duration"));
        Assert.Equal(1, metrics.Sum("broker.handler.timeouts"));

        // The reply that comes too late is ignored and counted; the stream stays, and serves the next call.
        await mute.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = inbound.InboundId, Data = ByteString.CopyFromUtf8("1") } }).WaitAsync(Timeout);
        await metrics.WaitForSumAsync("broker.handler.replies.ignored", 1);
        await AssertServesAsync(socket, mute, id: 10);

        await watcher.PublishAsync();
        await watcher.AssertReceivedEverythingAsync("never replies");
        GrpcHostile.AssertNoErrorLogged(server, "never replies");
    }

    [Fact]
    public async Task RepliesToIdsNeverGiven_OrGivenTwice_AreIgnored_AndCounted_AndNoOtherCallNotices()
    {
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        var invoker = channel.CreateCallInvoker();
        await using var watcher = await GrpcWatcher.StartAsync(server, invoker);
        using var rogue = await RegisterAsync(invoker, "rogue", "rogue.*");
        using var sound = await RegisterAsync(invoker, "sound", "sound.*");
        var (socket, _) = await server.ConnectAsync("alice");
        await using var _1 = socket;

        // A call of the sound handler is in flight while the rogue one replies to every id near it.
        await socket.SendAsync("""{"type":"send","id":20,"event":"sound.ask","data":{}}""");
        var soundCall = await NextInboundAsync(sound);
        await socket.SendAsync("""{"type":"send","id":21,"event":"rogue.ask","data":{}}""");
        var rogueCall = await NextInboundAsync(rogue);

        long ignored = 0;
        foreach (ulong id in new[] { soundCall.InboundId, rogueCall.InboundId + 1000, 0UL, ulong.MaxValue })
        {
            await watcher.PublishAsync();
            await rogue.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = id, Data = ByteString.CopyFromUtf8("\"stolen\"") } }).WaitAsync(Timeout);
            await metrics.WaitForSumAsync("broker.handler.replies.ignored", ++ignored);
        }

        // Its own call, answered twice: the first reply counts, the second is ignored.
        await rogue.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = rogueCall.InboundId, Data = ByteString.CopyFromUtf8("\"first\"") } }).WaitAsync(Timeout);
        await rogue.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = rogueCall.InboundId, Data = ByteString.CopyFromUtf8("\"second\"") } }).WaitAsync(Timeout);
        await metrics.WaitForSumAsync("broker.handler.replies.ignored", ++ignored);
        var rogueReply = await socket.ExpectAsync("reply");
        Assert.Equal(21, rogueReply.GetProperty("id").GetInt64());
        Assert.Equal("first", rogueReply.GetProperty("data").GetString());

        // The sound handler's call was never touched: its own reply is the one the browser gets.
        await sound.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = soundCall.InboundId, Data = ByteString.CopyFromUtf8("\"sound\"") } }).WaitAsync(Timeout);
        var soundReply = await socket.ExpectAsync("reply");
        Assert.Equal(20, soundReply.GetProperty("id").GetInt64());
        Assert.Equal("sound", soundReply.GetProperty("data").GetString());

        // Both streams serve on.
        await AssertServesAsync(socket, rogue, id: 22, @event: "rogue.ask");
        await AssertServesAsync(socket, sound, id: 23, @event: "sound.ask");
        Assert.Equal(ignored, metrics.Sum("broker.handler.replies.ignored"));
        Assert.Equal(0, metrics.Sum("broker.handler.timeouts"));

        await watcher.PublishAsync();
        await watcher.AssertReceivedEverythingAsync("rogue replies");
        GrpcHostile.AssertNoErrorLogged(server, "rogue replies");
    }

    private static async Task<AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent>> RegisterAsync(CallInvoker invoker, string group, string events)
    {
        var call = invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, new CallOptions(deadline: DateTime.UtcNow + TimeSpan.FromMinutes(2)));
        await call.RequestStream.WriteAsync(new HandlerMessage { Register = new V1.HandlerRegistration { Group = group, Events = { events } } }).WaitAsync(Timeout);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(HandlerEvent.KindOneofCase.Registered, call.ResponseStream.Current.KindCase);
        return call;
    }

    private static async Task<Inbound> NextInboundAsync(AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent> handler)
    {
        Assert.True(await handler.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(HandlerEvent.KindOneofCase.Inbound, handler.ResponseStream.Current.KindCase);
        return handler.ResponseStream.Current.Inbound;
    }

    /// <summary>A browser send reaches <paramref name="handler"/> and its reply reaches the browser.</summary>
    private static async Task AssertServesAsync(TestSocket socket, AsyncDuplexStreamingCall<HandlerMessage, HandlerEvent> handler, long id, string @event = "mute.ask")
    {
        await socket.SendAsync(JsonSerializer.Serialize(new { type = "send", id, @event, data = new { } }));
        var inbound = await NextInboundAsync(handler);
        await handler.RequestStream.WriteAsync(new HandlerMessage { Reply = new V1.HandlerReply { InboundId = inbound.InboundId, Data = ByteString.CopyFromUtf8("\"ok\"") } }).WaitAsync(Timeout);
        var reply = await socket.ExpectAsync("reply");
        Assert.Equal(id, reply.GetProperty("id").GetInt64());
        Assert.Equal("ok", reply.GetProperty("data").GetString());
    }
}
