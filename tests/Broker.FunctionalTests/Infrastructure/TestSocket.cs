using System.Net.WebSockets;
using System.Text.Json;
using System.Text;

namespace Broker.FunctionalTests.Infrastructure;

/// <summary>
/// A real <see cref="ClientWebSocket"/> speaking the broker's framing: several JSON frames per message,
/// separated by <c>\n</c>, both ways. Every receive has a timeout.
/// </summary>
public sealed class TestSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Queue<JsonElement> _frames = new();
    private readonly byte[] _buffer = new byte[1 << 20];

    private TestSocket(ClientWebSocket socket) => _socket = socket;

    public ClientWebSocket Raw => _socket;

    /// <summary>Messages received so far (to prove coalescing).</summary>
    public int MessagesReceived { get; private set; }

    /// <summary>Frames received so far.</summary>
    public int FramesReceived { get; private set; }

    public static Task<TestSocket> ConnectAsync(BrokerServer server, string? origin = null, CookieContainer? cookies = null, string? subProtocol = null, IReadOnlyDictionary<string, string>? headers = null) =>
        ConnectAsync(server.WebSocketAddress, origin, cookies, subProtocol, headers);

    /// <summary>Opens a socket to <paramref name="address"/> (<c>ws://…/ws</c>): a broker in another process (the cluster tests).</summary>
    public static async Task<TestSocket> ConnectAsync(Uri address, string? origin = null, CookieContainer? cookies = null, string? subProtocol = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            socket.Options.SetRequestHeader(name, value);
        }

        if (cookies is not null)
        {
            socket.Options.Cookies = cookies;
        }

        if (subProtocol is not null)
        {
            socket.Options.AddSubProtocol(subProtocol);
        }

        await socket.ConnectAsync(address, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);
        return new TestSocket(socket);
    }

    /// <summary>Sends frames (JSON texts) as one message.</summary>
    public Task SendAsync(params string[] frames) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(string.Join('\n', frames)), WebSocketMessageType.Text, true, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);

    /// <summary>Sends one frame built from an anonymous object.</summary>
    public Task SendJsonAsync(object frame) => SendAsync(JsonSerializer.Serialize(frame));

    public Task SendBinaryAsync(byte[] bytes) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);

    /// <summary>The next frame.</summary>
    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? BrokerServer.DefaultTimeout);
        while (_frames.Count == 0)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(_buffer.AsMemory(length), cts.Token);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketClosedException(_socket.CloseStatus, _socket.CloseStatusDescription);
            }

            MessagesReceived++;
            foreach (var line in Encoding.UTF8.GetString(_buffer, 0, length).Split('\n'))
            {
                _frames.Enqueue(JsonDocument.Parse(line).RootElement.Clone());
                FramesReceived++;
            }
        }

        return _frames.Dequeue();
    }

    /// <summary>The next frame, which must be of <paramref name="type"/>.</summary>
    public async Task<JsonElement> ExpectAsync(string type)
    {
        var frame = await ReceiveAsync();
        Assert.True(frame.GetProperty("type").GetString() == type, $"expected a '{type}' frame, got {frame}");
        return frame;
    }

    /// <summary>Skips frames until one of <paramref name="type"/> arrives.</summary>
    public async Task<JsonElement> SkipToAsync(string type)
    {
        while (true)
        {
            var frame = await ReceiveAsync();
            if (frame.GetProperty("type").GetString() == type)
            {
                return frame;
            }
        }
    }

    /// <summary>Expects an error frame with <paramref name="code"/> (and <paramref name="id"/> when given).</summary>
    public async Task<JsonElement> ExpectErrorAsync(string code, long? id = null)
    {
        var frame = await ExpectAsync("error");
        Assert.Equal(code, frame.GetProperty("code").GetString());
        if (id is not null)
        {
            Assert.Equal(id, frame.GetProperty("id").GetInt64());
        }

        Assert.False(string.IsNullOrEmpty(frame.GetProperty("message").GetString()));
        return frame;
    }

    /// <summary>Reads (and drops) frames until the server closes; returns the close code.</summary>
    public async Task<int> ExpectCloseAsync(TimeSpan? timeout = null)
    {
        try
        {
            while (true)
            {
                await ReceiveAsync(timeout);
            }
        }
        catch (WebSocketClosedException closed)
        {
            return (int)closed.Status!.Value;
        }
    }

    /// <summary>After the server's close (<see cref="ExpectCloseAsync"/>), sends the client's close unless it has gone already.</summary>
    public async Task AnswerCloseAsync()
    {
        if (_socket.State == WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout);
        }
    }

    /// <summary>
    /// Proves the socket is still open and answered in order: ping, then expect pong as the next frame —
    /// the server's own pings excepted, which tests with short ping intervals may see at any time.
    /// </summary>
    public async Task ExpectAliveAsync()
    {
        await SendAsync("""{"type":"ping"}""");
        JsonElement frame;
        do
        {
            frame = await ReceiveAsync();
        }
        while (frame.GetProperty("type").GetString() == "ping");

        Assert.True(frame.GetProperty("type").GetString() == "pong", $"expected a 'pong' frame, got {frame}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException)
            {
            }
        }

        _socket.Dispose();
    }
}

/// <summary>The server closed the socket.</summary>
public sealed class WebSocketClosedException(WebSocketCloseStatus? status, string? description)
    : Exception($"closed: {status} {description}")
{
    public WebSocketCloseStatus? Status { get; } = status;
}
