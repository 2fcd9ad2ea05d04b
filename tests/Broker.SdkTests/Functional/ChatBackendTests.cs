using System.Text.Json;
using System.Text;
using ChatBackend;

namespace Broker.SdkTests.Functional;

/// <summary>
/// The sample backend (samples/ChatBackend) end to end: the real broker, the sample's handler in-process on the SDK,
/// and a browser's WebSocket (ticket from IssueTicket) that posts with <c>send</c>.
/// </summary>
public sealed class ChatBackendTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;
    private readonly CancellationTokenSource _stop = new();
    private BrokerServer _server = null!;
    private BrokerClient _client = null!;
    private Task _backend = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _server = await SdkTestBroker.StartAsync();
        _client = SdkTestBroker.Client(_server);
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend = new ChatHandler(_client).RunAsync(new HandlerOptions { OnRegistered = _ => registered.TrySetResult() }, _stop.Token);
        await registered.Task.WaitAsync(Timeout);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _backend.WaitAsync(Timeout);
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task A_post_is_published_to_the_room_replied_ok_and_the_user_is_greeted_once()
    {
        await using var room = await LiveSubscription.StartAsync(_client, ["chat:lobby"]);
        var (socket, _) = await SdkTestBroker.BrowserAsync(_server, _client, "alice");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "chat.post", data = new { room = "lobby", text = "  hello there  " } });
            var frames = new List<JsonElement> { await socket.ReceiveAsync(), await socket.ReceiveAsync() };
            // The reply and the greeting (a pub on the personal channel) may come in either order.
            var reply = Assert.Single(frames, f => f.GetProperty("type").GetString() == "reply");
            Assert.Equal(1, reply.GetProperty("id").GetInt32());
            Assert.True(reply.GetProperty("data").GetProperty("ok").GetBoolean());
            var notice = Assert.Single(frames, f => f.GetProperty("type").GetString() == "pub");
            Assert.Equal("$user:alice", notice.GetProperty("channel").GetString());
            Assert.Equal("notice", notice.GetProperty("event").GetString());
            Assert.Equal("Welcome, alice!", notice.GetProperty("data").GetProperty("text").GetString());

            var message = Assert.Single(await room.TakeAsync(1));
            Assert.Equal("message", message.Event);
            Assert.Equal("""{"text":"hello there","user":"alice"}""", Encoding.UTF8.GetString(message.Data.Span));

            // A second post: replied and published, no second greeting.
            await socket.SendJsonAsync(new { type = "send", id = 2, @event = "chat.post", data = new { room = "lobby", text = "again" } });
            var second = await socket.ExpectAsync("reply");
            Assert.Equal(2, second.GetProperty("id").GetInt32());
            Assert.Equal("again", (await room.TakeAsync(1))[0].Deserialize<JsonElement>().GetProperty("text").GetString());
        }

        var history = await _client.HistoryAsync("chat:lobby").WaitAsync(Timeout);
        Assert.Equal(2, history.Publications.Count);
    }

    [Theory]
    [InlineData("""{"room":"lobby","text":"   "}""", "Write something first.")]
    [InlineData("""{"room":"no spaces","text":"hi"}""", "Pick a room")]
    [InlineData("""{"room":"this-room-name-is-far-too-long-for-us","text":"hi"}""", "Pick a room")]
    [InlineData("""{"text":"hi"}""", "Pick a room")]
    [InlineData("""["not","an","object"]""", "Pick a room")]
    public async Task A_bad_post_gets_bad_request_with_a_message_for_the_page_and_publishes_nothing(string data, string message)
    {
        var (socket, _) = await SdkTestBroker.BrowserAsync(_server, _client, "bob");
        await using (socket)
        {
            await socket.SendAsync($$"""{"type":"send","id":3,"event":"chat.post","data":{{data}}}""");
            var error = await socket.ExpectErrorAsync("bad_request", 3);
            Assert.StartsWith(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Empty((await _client.HistoryAsync("chat:lobby").WaitAsync(Timeout)).Publications);
    }

    [Fact]
    public async Task Text_is_limited_to_500_characters_after_trimming()
    {
        var (socket, _) = await SdkTestBroker.BrowserAsync(_server, _client, "carol");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "chat.post", data = new { room = "dev", text = new string('x', 501) } });
            var error = await socket.ExpectErrorAsync("bad_request", 1);
            Assert.Contains("500", error.GetProperty("message").GetString(), StringComparison.Ordinal);

            // 500 characters (here emoji, two UTF-16 units each) plus surrounding spaces pass.
            var text = string.Concat(Enumerable.Repeat("😀", 500));
            await socket.SendJsonAsync(new { type = "send", id = 2, @event = "chat.post", data = new { room = "dev", text = " " + text + " " } });
            await socket.SkipToAsync("reply");
        }

        var published = Assert.Single((await _client.HistoryAsync("chat:dev").WaitAsync(Timeout)).Publications);
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 500)), published.Deserialize<JsonElement>().GetProperty("text").GetString());
    }
}
