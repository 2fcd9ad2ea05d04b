using System.Collections.Concurrent;
using System.Text;
using Broker.Core.Handlers;
using Broker.Core;
using Broker.FunctionalTests.Infrastructure;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.WebSockets;

/// <summary>send: to one handler, with the sender attached, answered or timed out.</summary>
public class SendTests
{
    [Fact]
    public async Task ASendWithNoHandlerIsUnavailable()
    {
        await using var server = await BrokerServer.StartAsync(With());
        await using var socket = await server.ConnectSocketAsync();
        await socket.SendAsync("""{"type":"send","id":5,"event":"chat.post","data":{"text":"hi"}}""");
        await socket.ExpectErrorAsync("unavailable", id: 5);
    }

    [Fact]
    public async Task AHandlerSeesTheSenderAndItsReplyComesBackWithTheId()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var registry = server.Services.GetRequiredService<HandlerRegistry>();
        var handler = new EchoHandler(registry);
        handler.Registration = registry.Register("test", ["chat.*"], 0, handler);

        var (socket, welcome) = await server.ConnectAsync("alice");
        await using var _1 = socket;
        await socket.SendAsync("""{"type":"send","id":5,"event":"chat.post","data":{"text":"hi"}}""");
        var reply = await socket.ExpectAsync("reply");
        Assert.Equal(5, reply.GetProperty("id").GetInt64());
        Assert.Equal("alice", reply.GetProperty("data").GetProperty("user").GetString());
        Assert.Equal(welcome.GetProperty("sessionId").GetString(), reply.GetProperty("data").GetProperty("session").GetString());
        Assert.Equal("hi", reply.GetProperty("data").GetProperty("echo").GetProperty("text").GetString());
    }

    [Fact]
    public async Task AHandlerErrorReachesTheBrowserAsAnError()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var registry = server.Services.GetRequiredService<HandlerRegistry>();
        var handler = new EchoHandler(registry) { FailWith = "bad_request" };
        handler.Registration = registry.Register("test", ["chat.post"], 0, handler);
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SendAsync("""{"type":"send","id":6,"event":"chat.post","data":""}""");
        var error = await socket.ExpectErrorAsync("bad_request", id: 6);
        Assert.Equal("the handler says no", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task NoReplyInTimeIsATimeout()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:Handlers:Timeout", "00:00:00.300")));
        var registry = server.Services.GetRequiredService<HandlerRegistry>();
        var silent = new EchoHandler(registry) { Silent = true };
        silent.Registration = registry.Register("test", ["chat.post"], 0, silent);
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SendAsync("""{"type":"send","id":7,"event":"chat.post","data":1}""");
        await socket.ExpectErrorAsync("timeout", id: 7);
    }

    [Fact]
    public async Task TheReaderGoesOnWhileAHandlerWorks()
    {
        await using var server = await BrokerServer.StartAsync(With());
        var registry = server.Services.GetRequiredService<HandlerRegistry>();
        var silent = new EchoHandler(registry) { Silent = true };
        silent.Registration = registry.Register("test", ["slow"], 0, silent);
        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SendAsync("""{"type":"send","id":8,"event":"slow","data":1}""");
        await socket.ExpectAliveAsync();
        var call = await silent.Calls.Reader.ReadAsync().AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        registry.Complete(silent.Registration!, call.Id, new HandlerReply("\"late but fine\""u8.ToArray()));
        Assert.Equal("late but fine", (await socket.ExpectAsync("reply")).GetProperty("data").GetString());
    }

    /// <summary>An in-process handler (a test double for a gRPC Handle stream).</summary>
    private sealed class EchoHandler(HandlerRegistry registry) : IHandlerEndpoint
    {
        public HandlerRegistration? Registration { get; set; }

        public string? FailWith { get; init; }

        public bool Silent { get; init; }

        public System.Threading.Channels.Channel<InboundCall> Calls { get; } = System.Threading.Channels.Channel.CreateUnbounded<InboundCall>();

        public bool TryDeliver(InboundCall call)
        {
            Calls.Writer.TryWrite(call);
            if (Silent)
            {
                return true;
            }

            _ = Task.Run(() =>
            {
                var reply = FailWith is { } code
                    ? HandlerReply.Error(code, "the handler says no")
                    : new HandlerReply(Encoding.UTF8.GetBytes($$"""{"user":"{{call.From.UserId}}","session":"{{call.From.SessionId}}","echo":{{Encoding.UTF8.GetString(call.Data.Span)}}}"""));
                registry.Complete(Registration!, call.Id, reply);
            });
            return true;
        }
    }
}
