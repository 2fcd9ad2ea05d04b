using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Broker.BrowserTests.Infrastructure;

/// <summary>
/// TEST DOUBLE. A small fake of the broker's browser-facing side, written from PROTOCOL.md while the
/// real WebSocket server is built elsewhere: real Kestrel on 127.0.0.1:0 serving the real
/// src/Broker/wwwroot, <c>POST /session</c>, <c>POST /tickets</c>, <c>POST /demo/login</c>, and a
/// <c>/ws</c> that speaks just enough of the contract (hello/welcome with resume, subscribe,
/// unsubscribe, publish/ack/pub, send with a stand-in for the sample chat backend, history,
/// presence with join/leave, ping/pong, lagged). It records what the client sent and lets a test
/// drop sockets, refuse connections, mute a connection, or inject raw frames.
/// It is not the broker: real-broker tests replace it with the broker itself (see RealBrokerTests).
/// </summary>
public sealed partial class FakeBrokerServer : IAsyncDisposable
{
    private const string SessionCookie = "fake_broker_session";
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(15);

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string?> _sessions = [];       // sessionId -> userId
    private readonly Dictionary<string, string> _tickets = [];         // ticket -> sessionId
    private readonly Dictionary<string, ChannelLog> _channels = [];
    private readonly List<Connection> _connections = [];
    private readonly List<(Connection From, JsonObject Frame)> _received = [];
    private readonly List<string> _rawMessages = [];
    private int _nextConnection;

    private FakeBrokerServer(WebApplication app) => _app = app;

    /// <summary>The server's base address, <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>When true, <c>send</c> <c>chat.post</c> is handled like the sample backend; else <c>unavailable</c>.</summary>
    public bool BackendEnabled { get; set; } = true;

    /// <summary>The <c>pingInterval</c> told in <c>welcome</c>, seconds.</summary>
    public int PingInterval { get; set; } = 25;

    /// <summary>When true, <c>/ws</c> answers 503 (the broker is "down").</summary>
    public bool RefuseConnections { get; set; }

    /// <summary>When &gt; 0, a resume replays this many already-seen publications too (to prove the client's dedupe).</summary>
    public int ReplayOverlap { get; set; }

    /// <summary>Starts the fake on a free loopback port.</summary>
    public static async Task<FakeBrokerServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = RepoPaths.WebRoot,
            EnvironmentName = "Development",
        });
        // No configuration files: the broker's appsettings.json (copied to the test output) binds the
        // real ports 8080/8081, and the fake must take a free one.
        ((IConfigurationBuilder)builder.Configuration).Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeBrokerServer(app);
        server.Map();
        await app.StartAsync().WaitAsync(WaitTimeout);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        DropAll();
        await _app.StopAsync().WaitAsync(WaitTimeout);
        await _app.DisposeAsync().AsTask().WaitAsync(WaitTimeout);
    }

    // --- test controls ----------------------------------------------------------------------------

    /// <summary>Open WebSocket connections that completed hello.</summary>
    public int ConnectionCount
    {
        get { lock (_gate) return _connections.Count; }
    }

    /// <summary>Every client frame received so far, in order.</summary>
    public IReadOnlyList<JsonObject> ReceivedFrames
    {
        get { lock (_gate) return _received.Select(r => r.Frame).ToList(); }
    }

    /// <summary>The raw text of every client WebSocket message so far.</summary>
    public IReadOnlyList<string> RawMessages
    {
        get { lock (_gate) return _rawMessages.ToList(); }
    }

    /// <summary>Waits until a client frame matching <paramref name="match"/> has arrived; returns the first such.</summary>
    public async Task<JsonObject> WaitForFrameAsync(Func<JsonObject, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? WaitTimeout);
        while (true)
        {
            lock (_gate)
            {
                foreach (var (_, frame) in _received)
                {
                    if (match(frame)) return frame;
                }

                if (DateTime.UtcNow > deadline) throw new TimeoutException("no matching client frame; got: " + string.Join(" | ", _received.Select(r => r.Frame.ToJsonString())));
                _changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            await WaitChangedAsync(deadline);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (checked whenever the fake's state changes).</summary>
    public async Task WaitUntilAsync(Func<FakeBrokerServer, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? WaitTimeout);
        while (true)
        {
            lock (_gate)
            {
                _changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            if (condition(this)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting for " + what);
            await WaitChangedAsync(deadline);
        }
    }

    private TaskCompletionSource? _changed;

    private async Task WaitChangedAsync(DateTime deadline)
    {
        Task changed;
        lock (_gate) changed = (_changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        var left = deadline - DateTime.UtcNow;
        if (left <= TimeSpan.Zero) return;
        await Task.WhenAny(changed, Task.Delay(left));
    }

    private void SignalChangedLocked()
    {
        var changed = _changed;
        _changed = null;
        changed?.TrySetResult();
    }

    /// <summary>Publishes as a backend would; returns the offset.</summary>
    public long Publish(string channel, string @event, JsonNode? data)
    {
        lock (_gate) return PublishLocked(channel, @event, data, from: null, deliverTo: null).Offset;
    }

    /// <summary>
    /// Stores <paramref name="count"/> publications in history without delivering them to current
    /// subscribers, and marks those subscribers so the next delivery on the channel is preceded by
    /// <c>lagged</c> (what a full queue under DropOldest produces).
    /// </summary>
    public void SimulateDrops(string channel, int count, string @event, Func<int, JsonNode> data)
    {
        lock (_gate)
        {
            var subscribers = _connections.Where(c => c.Channels.Contains(channel)).ToList();
            for (var i = 0; i < count; i++) PublishLocked(channel, @event, data(i), from: null, deliverTo: []);
            foreach (var c in subscribers)
            {
                c.PendingLagged[channel] = (c.PendingLagged.TryGetValue(channel, out var n) ? n : 0) + count;
            }
        }
    }

    /// <summary>Sends one raw WebSocket text message (may hold several <c>\n</c>-separated frames) to every connection.</summary>
    public void SendRawToAll(string message)
    {
        lock (_gate)
        {
            foreach (var c in _connections) c.Outbox.Writer.TryWrite(message);
        }
    }

    /// <summary>Aborts every socket (the browser sees close 1006), like a network cut or a crashed broker.</summary>
    public void DropAll()
    {
        List<Connection> dropped;
        lock (_gate)
        {
            dropped = [.. _connections];
            foreach (var c in dropped) RemoveLocked(c);
        }

        foreach (var c in dropped) c.Http.Abort();
    }

    /// <summary>Stops sending anything (pings included) on every current connection, keeping the sockets open.</summary>
    public void MuteAll()
    {
        lock (_gate)
        {
            foreach (var c in _connections) c.Muted = true;
        }
    }

    /// <summary>Closes every socket with <paramref name="code"/>, with no <c>disconnect</c> frame first.</summary>
    public void CloseAll(int code)
    {
        lock (_gate)
        {
            foreach (var c in _connections)
            {
                c.CloseWith = (WebSocketCloseStatus)code;
                c.Outbox.Writer.TryComplete();
            }
        }
    }

    /// <summary>Sends <c>disconnect</c> then closes every socket with <paramref name="code"/>.</summary>
    public void DisconnectAll(int code, string reason, bool reconnect)
    {
        lock (_gate)
        {
            foreach (var c in _connections)
            {
                c.Outbox.Writer.TryWrite(Frame(new JsonObject { ["type"] = "disconnect", ["code"] = code, ["reason"] = reason, ["reconnect"] = reconnect }));
                c.CloseWith = (WebSocketCloseStatus)code;
                c.Outbox.Writer.TryComplete();
            }
        }
    }

    // --- HTTP -------------------------------------------------------------------------------------

    private void Map()
    {
        var files = new PhysicalFileProvider(RepoPaths.WebRoot);
        _app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        _app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            // Tests edit nothing at run time, but a stale cached broker.js would hide a change.
            OnPrepareResponse = static ctx => ctx.Context.Response.Headers.CacheControl = "no-store",
        });
        _app.UseWebSockets();

        // A blank page that loads broker.js, for tests of the library alone.
        _app.MapGet("/test.html", static () => Results.Content(
            "<!doctype html><html><head><title>broker.js test</title></head><body>" +
            "<script type=\"module\">import * as broker from '/broker.js'; window.broker = broker;</script></body></html>",
            "text/html"));

        _app.MapPost("/session", (HttpContext http) =>
        {
            var sessionId = SessionOf(http) ?? NewSession(http);
            lock (_gate) return Results.Json(new { sessionId, userId = _sessions[sessionId] });
        });

        _app.MapPost("/demo/login", async (HttpContext http) =>
        {
            var sessionId = SessionOf(http);
            if (sessionId is null) return Results.StatusCode(401);
            var body = await JsonNode.ParseAsync(http.Request.Body);
            var name = body?["name"]?.GetValue<string>();
            if (name is null || !UserIdPattern().IsMatch(name)) return Results.BadRequest(new { error = "name: 1-32 of [A-Za-z0-9_.-]" });
            lock (_gate) _sessions[sessionId] = name;
            return Results.Json(new { sessionId, userId = name });
        });

        _app.MapPost("/tickets", (HttpContext http) =>
        {
            var sessionId = SessionOf(http);
            if (sessionId is null) return Results.StatusCode(401);
            var ticket = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            lock (_gate) _tickets[ticket] = sessionId;
            http.Response.Headers.CacheControl = "no-store";
            return Results.Json(new { ticket, expiresAt = DateTimeOffset.UtcNow.AddSeconds(30).ToString("O") });
        });

        _app.Map("/ws", HandleWebSocketAsync);
    }

    private string? SessionOf(HttpContext http)
    {
        var id = http.Request.Cookies[SessionCookie];
        lock (_gate) return id is not null && _sessions.ContainsKey(id) ? id : null;
    }

    private string NewSession(HttpContext http)
    {
        var id = "s" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        lock (_gate) _sessions[id] = null;
        http.Response.Cookies.Append(SessionCookie, id, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, Path = "/" });
        return id;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,32}$")]
    private static partial Regex UserIdPattern();

    // --- WebSocket --------------------------------------------------------------------------------

    private async Task HandleWebSocketAsync(HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest) { http.Response.StatusCode = 400; return; }
        if (RefuseConnections) { http.Response.StatusCode = 503; return; }
        var offered = http.WebSockets.WebSocketRequestedProtocols;
        using var ws = await http.WebSockets.AcceptWebSocketAsync(offered.Contains("broker.v1.json") ? "broker.v1.json" : null);
        var connection = new Connection(http, ws, "c" + Interlocked.Increment(ref _nextConnection));
        var writer = WriteLoopAsync(connection);
        try
        {
            await ReadLoopAsync(connection);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested || ws.State != WebSocketState.Open)
        {
            // Dropped on purpose (DropAll) or by the browser.
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            lock (_gate) RemoveLocked(connection);
            connection.Outbox.Writer.TryComplete();
            await writer;
        }
    }

    private async Task ReadLoopAsync(Connection c)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (c.Socket.State == WebSocketState.Open)
        {
            var result = await c.Socket.ReceiveAsync(buffer, c.Http.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close) return;
            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage) continue;
            var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            message.SetLength(0);
            lock (_gate)
            {
                _rawMessages.Add(text);
                foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    JsonObject frame;
                    try { frame = JsonNode.Parse(line)!.AsObject(); }
                    catch (JsonException) { Send(c, Error(null, "bad_request", "not JSON")); continue; }
                    _received.Add((c, frame));
                    HandleLocked(c, frame);
                }

                SignalChangedLocked();
            }
        }
    }

    private static async Task WriteLoopAsync(Connection c)
    {
        try
        {
            await foreach (var message in c.Outbox.Reader.ReadAllAsync())
            {
                if (c.Muted) continue;
                await c.Socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, c.Http.RequestAborted);
            }

            if (c.CloseWith is { } code && c.Socket.State == WebSocketState.Open)
            {
                await c.Socket.CloseOutputAsync(code, "fake broker", CancellationToken.None);
            }
        }
        catch (Exception)
        {
            // The socket went away; the read loop cleans up.
        }
    }

    private void HandleLocked(Connection c, JsonObject f)
    {
        var type = f["type"]?.GetValue<string>();
        var id = f["id"]?.GetValue<long>();
        if (!c.Welcomed && type != "hello")
        {
            Send(c, Error(id, "unauthorized", "hello first"));
            c.CloseWith = WebSocketCloseStatus.PolicyViolation;
            c.Outbox.Writer.TryComplete();
            return;
        }

        switch (type)
        {
            case "hello": Hello(c, f, id); break;
            case "pong": c.Pongs++; break;
            case "ping": Send(c, new JsonObject { ["type"] = "pong" }); break;
            case "subscribe":
                {
                    var channel = f["channel"]!.GetValue<string>();
                    if (channel.StartsWith('$')) { Send(c, Error(id, "forbidden", "personal channels")); break; }
                    if (c.Channels.Contains(channel)) { Send(c, Error(id, "already_subscribed", channel)); break; }
                    SubscribeLocked(c, channel, f["since"] as JsonObject, id);
                    break;
                }

            case "unsubscribe":
                {
                    var channel = f["channel"]!.GetValue<string>();
                    if (!c.Channels.Remove(channel)) { Send(c, Error(id, "not_subscribed", channel)); break; }
                    LeaveLocked(c, channel);
                    Send(c, new JsonObject { ["type"] = "unsubscribed", ["id"] = id, ["channel"] = channel });
                    break;
                }

            case "publish":
                {
                    var channel = f["channel"]!.GetValue<string>();
                    if (channel.StartsWith('$')) { Send(c, Error(id, "forbidden", "personal channels")); break; }
                    var from = new JsonObject();
                    if (c.UserId is not null) from["userId"] = c.UserId;
                    var pub = PublishLocked(channel, f["event"]?.GetValue<string>() ?? "message", f["data"]?.DeepClone(), from, deliverTo: null);
                    if (id is not null) Send(c, new JsonObject { ["type"] = "ack", ["id"] = id, ["channel"] = channel, ["offset"] = pub.Offset, ["epoch"] = pub.Epoch });
                    break;
                }

            case "send": SendToBackendLocked(c, f, id); break;
            case "history":
                {
                    var channel = f["channel"]!.GetValue<string>();
                    var log = Log(channel);
                    var limit = f["limit"]?.GetValue<int>() ?? 100;
                    var (pubs, recovered) = log.After(f["since"] as JsonObject, limit);
                    var list = new JsonArray();
                    foreach (var p in pubs) list.Add(p.ToJson());
                    Send(c, new JsonObject
                    {
                        ["type"] = "history", ["id"] = id, ["channel"] = channel, ["epoch"] = log.Epoch,
                        ["offset"] = log.Offset, ["recovered"] = recovered, ["publications"] = list,
                    });
                    break;
                }

            case "presence":
                {
                    var channel = f["channel"]!.GetValue<string>();
                    var members = new JsonArray();
                    foreach (var g in _connections.Where(x => x.UserId is not null && x.Channels.Contains(channel)).GroupBy(x => x.UserId))
                    {
                        members.Add(new JsonObject { ["userId"] = g.Key, ["connections"] = g.Count() });
                    }

                    var anonymous = _connections.Where(x => x.UserId is null && x.Channels.Contains(channel)).Select(x => x.SessionId).Distinct().Count();
                    Send(c, new JsonObject { ["type"] = "presence", ["id"] = id, ["channel"] = channel, ["members"] = members, ["anonymous"] = anonymous });
                    break;
                }

            default: Send(c, Error(id, "bad_request", "unknown type")); break;
        }
    }

    private void Hello(Connection c, JsonObject f, long? id)
    {
        if (c.Welcomed) { Send(c, Error(id, "bad_request", "second hello")); return; }
        string? sessionId = null;
        if (f["ticket"]?.GetValue<string>() is { } ticket)
        {
            if (_tickets.Remove(ticket, out var s)) sessionId = s;
        }
        else
        {
            var cookie = c.Http.Request.Cookies[SessionCookie];
            if (cookie is not null && _sessions.ContainsKey(cookie)) sessionId = cookie;
        }

        if (sessionId is null)
        {
            Send(c, Error(id, "unauthorized", "no valid ticket or session"));
            c.CloseWith = WebSocketCloseStatus.PolicyViolation;
            c.Outbox.Writer.TryComplete();
            return;
        }

        c.SessionId = sessionId;
        c.UserId = _sessions[sessionId];
        c.Welcomed = true;
        _connections.Add(c);
        var personal = new JsonArray();
        foreach (var channel in new[] { "$session:" + c.SessionId, c.UserId is null ? null : "$user:" + c.UserId })
        {
            if (channel is null) continue;
            var log = Log(channel);
            c.Channels.Add(channel);
            personal.Add(new JsonObject { ["channel"] = channel, ["epoch"] = log.Epoch, ["offset"] = log.Offset });
        }

        // welcome, then per resumed channel `subscribed` and its missed pubs: all coalesced into as few
        // messages as the outbox holds, which also exercises the client's multi-frame parsing.
        var batch = new StringBuilder(Frame(new JsonObject
        {
            ["type"] = "welcome", ["id"] = id, ["connectionId"] = c.Id, ["sessionId"] = c.SessionId, ["userId"] = c.UserId,
            ["pingInterval"] = PingInterval, ["maxMessageBytes"] = 65536, ["subscriptions"] = personal,
        }));
        c.Batch = batch;
        if (f["resume"] is JsonObject resume)
        {
            foreach (var (channel, since) in resume) SubscribeLocked(c, channel, since as JsonObject, id: null);
        }

        c.Batch = null;
        c.Outbox.Writer.TryWrite(batch.ToString());
    }

    private void SubscribeLocked(Connection c, string channel, JsonObject? since, long? id)
    {
        var log = Log(channel);
        c.Channels.Add(channel);
        List<Pub> missed = [];
        var recovered = false;
        if (since is not null)
        {
            var overlap = ReplayOverlap;
            if (overlap > 0 && since["offset"] is { } o)
            {
                since = new JsonObject { ["epoch"] = since["epoch"]?.DeepClone(), ["offset"] = Math.Max(0, o.GetValue<long>() - overlap) };
            }

            (missed, recovered) = log.After(since, int.MaxValue);
        }

        Send(c, new JsonObject { ["type"] = "subscribed", ["id"] = id, ["channel"] = channel, ["epoch"] = log.Epoch, ["offset"] = log.Offset, ["recovered"] = recovered });
        foreach (var p in missed) Send(c, p.ToJson(withType: true));
        JoinLocked(c, channel);
    }

    private void JoinLocked(Connection c, string channel)
    {
        if (c.UserId is null || !channel.StartsWith("chat:", StringComparison.Ordinal)) return;
        if (_connections.Count(x => x != c && x.UserId == c.UserId && x.Channels.Contains(channel)) > 0) return;
        var join = new JsonObject { ["type"] = "join", ["channel"] = channel, ["member"] = new JsonObject { ["userId"] = c.UserId } };
        foreach (var x in _connections.Where(x => x.Channels.Contains(channel))) Send(x, join.DeepClone().AsObject());
        if (BackendEnabled)
        {
            // The sample backend greets a user who joins a room, on their personal channel.
            PublishLocked("$user:" + c.UserId, "notice", new JsonObject { ["text"] = $"Welcome to #{channel["chat:".Length..]}, {c.UserId}!" }, null, null);
        }
    }

    private void LeaveLocked(Connection c, string channel)
    {
        if (c.UserId is null || !channel.StartsWith("chat:", StringComparison.Ordinal)) return;
        if (_connections.Any(x => x != c && x.UserId == c.UserId && x.Channels.Contains(channel))) return;
        var leave = new JsonObject { ["type"] = "leave", ["channel"] = channel, ["member"] = new JsonObject { ["userId"] = c.UserId } };
        foreach (var x in _connections.Where(x => x != c && x.Channels.Contains(channel))) Send(x, leave.DeepClone().AsObject());
    }

    private void RemoveLocked(Connection c)
    {
        if (!_connections.Remove(c)) return;
        foreach (var channel in c.Channels) LeaveLocked(c, channel);
        SignalChangedLocked();
    }

    private void SendToBackendLocked(Connection c, JsonObject f, long? id)
    {
        if (id is null) { Send(c, Error(null, "bad_request", "send needs an id")); return; }
        if (!BackendEnabled) { Send(c, Error(id, "unavailable", "no handler for this event")); return; }
        if (f["event"]?.GetValue<string>() != "chat.post") { Send(c, Error(id, "unavailable", "no handler for this event")); return; }
        var room = f["data"]?["room"]?.GetValue<string>();
        var text = f["data"]?["text"]?.GetValue<string>()?.Trim();
        if (string.IsNullOrEmpty(room) || string.IsNullOrEmpty(text)) { Send(c, Error(id, "bad_request", "Write something first.")); return; }
        if (text.Length > 2000) { Send(c, Error(id, "bad_request", "That message is too long (2000 characters at most).")); return; }
        PublishLocked("chat:" + room, "message", new JsonObject { ["text"] = text, ["user"] = c.UserId }, from: null, deliverTo: null);
        Send(c, new JsonObject { ["type"] = "reply", ["id"] = id, ["data"] = new JsonObject { ["ok"] = true } });
    }

    private Pub PublishLocked(string channel, string @event, JsonNode? data, JsonObject? from, List<Connection>? deliverTo)
    {
        var log = Log(channel);
        var pub = log.Append(@event, data, from);
        foreach (var c in deliverTo ?? _connections.Where(x => x.Channels.Contains(channel)))
        {
            if (c.PendingLagged.Remove(channel, out var dropped))
            {
                Send(c, new JsonObject { ["type"] = "lagged", ["channel"] = channel, ["dropped"] = dropped, ["epoch"] = log.Epoch, ["offset"] = pub.Offset - 1 });
            }

            Send(c, pub.ToJson(withType: true));
        }

        SignalChangedLocked();
        return pub;
    }

    private ChannelLog Log(string channel)
    {
        if (!_channels.TryGetValue(channel, out var log)) _channels[channel] = log = new ChannelLog(channel);
        return log;
    }

    private static void Send(Connection c, JsonObject frame)
    {
        if (c.Batch is { } batch) batch.Append('\n').Append(Frame(frame));
        else c.Outbox.Writer.TryWrite(Frame(frame));
    }

    private static string Frame(JsonObject frame)
    {
        // Requests without an id get replies without one.
        if (frame["id"] is null) frame.Remove("id");
        return frame.ToJsonString();
    }

    private static JsonObject Error(long? id, string code, string message) =>
        new() { ["type"] = "error", ["id"] = id, ["code"] = code, ["message"] = message };

    private sealed class Connection(HttpContext http, WebSocket socket, string id)
    {
        public HttpContext Http { get; } = http;
        public WebSocket Socket { get; } = socket;
        public string Id { get; } = id;
        public string? SessionId { get; set; }
        public string? UserId { get; set; }
        public bool Welcomed { get; set; }
        public bool Muted { get; set; }
        public int Pongs { get; set; }
        public WebSocketCloseStatus? CloseWith { get; set; }
        public StringBuilder? Batch { get; set; }
        public HashSet<string> Channels { get; } = [];
        public Dictionary<string, int> PendingLagged { get; } = [];
        public Channel<string> Outbox { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    }

    private sealed record Pub(string Channel, string Event, JsonNode? Data, long Offset, string Epoch, string Time, JsonObject? From)
    {
        public JsonObject ToJson(bool withType = false)
        {
            var o = new JsonObject();
            if (withType) o["type"] = "pub";
            o["channel"] = Channel;
            o["event"] = Event;
            o["data"] = Data?.DeepClone();
            o["offset"] = Offset;
            o["epoch"] = Epoch;
            o["time"] = Time;
            if (From is not null) o["from"] = From.DeepClone();
            return o;
        }
    }

    private sealed class ChannelLog(string channel)
    {
        private readonly List<Pub> _pubs = [];

        public string Epoch { get; } = "fake-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();

        public long Offset { get; private set; }

        public Pub Append(string @event, JsonNode? data, JsonObject? from)
        {
            var pub = new Pub(channel, @event, data, ++Offset, Epoch, DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"), from);
            _pubs.Add(pub);
            return pub;
        }

        public (List<Pub> Pubs, bool Recovered) After(JsonObject? since, int limit)
        {
            if (since is null) return (_pubs.Skip(Math.Max(0, _pubs.Count - limit)).ToList(), false);
            var epoch = since["epoch"]?.GetValue<string>();
            var offset = since["offset"]?.GetValue<long>() ?? 0;
            if (epoch != Epoch || offset > Offset) return ([], false);
            return (_pubs.Where(p => p.Offset > offset).Take(limit).ToList(), true);
        }
    }
}
