using System.Text;
using System.Text.Json;
using Broker.Engines;
using Broker.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Hostile;

/// <summary>
/// The seeded fuzz of the WebSocket transport (issue 14): mutated and random frames before and after <c>hello</c>
/// from several sockets at once, each input answered as PROTOCOL.md says (an <c>error</c> of an allowed code with
/// the socket open, or the named close code), while a well-behaved subscriber on the same channel receives every
/// publication in order, and nothing the clients do makes the broker log at Error. Bounded: a few hundred inputs
/// per seed. A seed that ever finds a defect stays in the list as a regression case.
/// </summary>
public sealed class WebSocketFuzzTests
{
    private const int Workers = 3;
    private const int StepsPerWorker = 120;
    private const int CasesBeforeHello = 30;

    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    private static readonly HashSet<string> ServerTypes =
        ["ack", "subscribed", "unsubscribed", "history", "presence", "pub", "join", "leave", "lagged", "ping", "pong", "error", "reply"];

    // Every code a client's mistake may get after hello; never `internal` (the broker's own fault) nor `unauthorized`.
    private static readonly HashSet<string> ClientErrorCodes =
        ["bad_request", "forbidden", "not_found", "too_large", "rate_limited", "limit_exceeded", "already_subscribed", "not_subscribed", "unavailable", "timeout"];

    /// <summary>
    /// The seeds ./test.sh runs, plus those in <c>BROKER_FUZZ_SEEDS</c> (<c>100-199</c> or <c>7,8,9</c>) for a longer
    /// hunt. A seed that found a defect is added here for good, with a note of what it found.
    /// </summary>
    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int> { 1, 2, 3, 20261207 };
        foreach (var part in (Environment.GetEnvironmentVariable("BROKER_FUZZ_SEEDS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            int from = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            int to = range.Length > 1 ? int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : from;
            for (int seed = from; seed <= to; seed++)
            {
                seeds.Add(seed);
            }
        }

        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task SeededInputs_GetWhatProtocolSays_WhileAWellBehavedSubscriberMissesNothing(int seed)
    {
        await using var server = await BrokerServer.StartAsync(With(
            // The fuzz refuses many hellos from one address on purpose; the guard has its own test (LimitsTests).
            ("Broker:WebSocket:MaxFailedHellosPerIp", "1000000")));
        var hub = server.Services.GetRequiredService<Broker.Core.Hub>();
        var watcher = await Watcher.StartAsync(server, "room:fuzz");
        var published = new List<ulong>();
        var gate = new Lock();

        async Task PublishOneAsync(int n)
        {
            var result = await hub.PublishAsync(new PublishCommand("room:fuzz", "message", Encoding.UTF8.GetBytes($"{{\"n\":{n}}}")), default).AsTask().WaitAsync(Timeout);
            lock (gate)
            {
                published.Add(result.Position.Offset);
            }
        }

        await BeforeHelloAsync(server, new FrameFuzzer(seed, 65_536, 131_072), seed);
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(() =>
            AfterHelloAsync(server, new FrameFuzzer((seed * 100) + worker, 65_536, 131_072), PublishOneAsync))));

        var received = await watcher.StopAsync(published.Max());
        Assert.True(watcher.Lagged == 0, $"seed {seed}: the well-behaved subscriber was told lagged {watcher.Lagged} times");
        for (int i = 1; i < received.Count; i++)
        {
            Assert.True(received[i] == received[i - 1] + 1, $"seed {seed}: offsets {received[i - 1]} then {received[i]}");
        }

        Assert.Empty(published.Except(received));
        var errors = server.Log.Entries.Where(static e => e.Level >= LogLevel.Error).Select(static e => $"{e.EventId.Name}: {e.Message} {e.Exception}").ToList();
        Assert.True(errors.Count == 0, $"seed {seed}: the broker logged at Error for clients' mistakes:\n{string.Join('\n', errors)}");

        // Still serving.
        await using var last = await server.ConnectSocketAsync();
        await last.ExpectAliveAsync();
    }

    private static async Task BeforeHelloAsync(BrokerServer server, FrameFuzzer fuzzer, int seed)
    {
        for (int i = 0; i < CasesBeforeHello; i++)
        {
            var (input, mayBeWelcomed) = fuzzer.BeforeHello(await server.IssueTicketAsync("fuzz"));
            await using var socket = await RawWebSocket.ConnectAsync(server, seed + i);
            await SendAsync(socket, input);
            var (frames, code) = await ReadToCloseOrWelcomeAsync(socket);
            string context = $"seed {seed}, before hello #{i}, {input.Description}: got [{string.Join(" | ", frames)}] and close {code}";
            if (frames.Count > 0 && Type(frames[0]) == "welcome")
            {
                // A mutated hello that still carried a good ticket and parsed.
                Assert.True(mayBeWelcomed, context);
                continue;
            }

            Assert.True(code == input.CloseCode, context);
            if (code == 1008)
            {
                Assert.True(frames.Count > 0 && Type(frames[0]) == "error" && Code(frames[0]) == "unauthorized", context);
            }
        }
    }

    /// <summary>Reads until the server closes (its code) or welcomes (null): a hello that succeeds leaves the socket open.</summary>
    private static async Task<(List<string> Frames, int? Code)> ReadToCloseOrWelcomeAsync(RawWebSocket socket)
    {
        var frames = new List<string>();
        while (await socket.ReceiveFrameAsync() is { } frame)
        {
            if (frame.Opcode == RawWebSocket.Close)
            {
                return (frames, frame.Payload.Length >= 2 ? (frame.Payload[0] << 8) | frame.Payload[1] : 1005);
            }

            if (frame.Opcode == RawWebSocket.Text)
            {
                frames.AddRange(Encoding.UTF8.GetString(frame.Payload).Split('\n'));
                if (Type(frames[0]) == "welcome")
                {
                    return (frames, null);
                }
            }
        }

        return (frames, null);
    }

    private static async Task AfterHelloAsync(BrokerServer server, FrameFuzzer fuzzer, Func<int, Task> publish)
    {
        var socket = await HelloAsync(server, fuzzer.Seed);
        try
        {
            for (int step = 0; step < StepsPerWorker; step++)
            {
                await publish((fuzzer.Seed * 1000) + step);
                var input = fuzzer.AfterHello();
                string context = $"seed {fuzzer.Seed}, step {step}, {input.Description}";
                await SendAsync(socket, input);
                if (input.Expected == FuzzExpectation.Closes)
                {
                    var texts = new List<string>();
                    var code = await socket.ExpectCloseAsync(texts);
                    Assert.True(code == input.CloseCode, $"{context}: expected close {input.CloseCode}, got {code?.ToString() ?? "none"} after [{string.Join(" | ", texts)}]");
                    AssertAnswers(texts.SelectMany(static t => t.Split('\n')), context);
                    await socket.DisposeAsync();
                    socket = await HelloAsync(server, fuzzer.Seed + step);
                    continue;
                }

                // A request after the input proves the socket open and marks where this input's answers end.
                long sync = 7_000_000_000_000 + step;
                await socket.SendTextAsync($$"""{"type":"history","id":{{sync}},"channel":"room:sync","limit":1}""");
                List<string> frames;
                try
                {
                    frames = await socket.ReadUntilContainsAsync($"\"type\":\"history\",\"id\":{sync},");
                }
                catch (InvalidOperationException closed)
                {
                    Assert.Fail($"{context}: {closed.Message}");
                    return;
                }

                AssertAnswers(frames, context);
                if (input.Expected == FuzzExpectation.BadRequest)
                {
                    Assert.True(frames.Any(static f => Type(f) == "error" && Code(f) == "bad_request"), $"{context}: no bad_request in [{string.Join(" | ", frames)}]");
                }
            }
        }
        finally
        {
            await socket.DisposeAsync();
        }
    }

    private static void AssertAnswers(IEnumerable<string> frames, string context)
    {
        foreach (var frame in frames)
        {
            var type = Type(frame);
            Assert.True(type is not null && ServerTypes.Contains(type), $"{context}: unexpected frame {frame}");
            if (type == "error")
            {
                Assert.True(ClientErrorCodes.Contains(Code(frame) ?? ""), $"{context}: error code not for a client's mistake: {frame}");
            }
        }
    }

    private static async Task<RawWebSocket> HelloAsync(BrokerServer server, int seed)
    {
        var socket = await RawWebSocket.ConnectAsync(server, seed);
        await socket.SendTextAsync($$"""{"type":"hello","id":1,"ticket":"{{await server.IssueTicketAsync("fuzz")}}"}""");
        await socket.ReadUntilAsync("welcome");
        return socket;
    }

    private static async Task SendAsync(RawWebSocket socket, FuzzCase input)
    {
        foreach (var (opcode, payload, fin) in input.Frames)
        {
            await socket.SendFrameAsync(opcode, payload, fin);
        }
    }

    private static string? Type(string frame) => Property(frame, "type");

    private static string? Code(string frame) => Property(frame, "code");

    private static string? Property(string frame, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(frame);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The well-behaved client: subscribed to one channel, reading everything, answering pings.</summary>
    private sealed class Watcher
    {
        private readonly TestSocket _socket;
        private readonly List<ulong> _offsets = [];
        private readonly Lock _gate = new();
        private readonly CancellationTokenSource _stop = new();
        private ulong _target = ulong.MaxValue;
        private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Task _loop = Task.CompletedTask;

        private Watcher(TestSocket socket) => _socket = socket;

        public int Lagged { get; private set; }

        public static async Task<Watcher> StartAsync(BrokerServer server, string channel)
        {
            var watcher = new Watcher(await server.ConnectSocketAsync("watcher"));
            await watcher._socket.SubscribeAsync(channel);
            watcher._loop = Task.Run(watcher.ReadAsync);
            return watcher;
        }

        /// <summary>Waits until the publication at <paramref name="lastOffset"/> arrived; returns every offset received, in order.</summary>
        public async Task<List<ulong>> StopAsync(ulong lastOffset)
        {
            lock (_gate)
            {
                _target = lastOffset;
                if (_offsets.Count > 0 && _offsets[^1] >= lastOffset)
                {
                    _reached.TrySetResult();
                }
            }

            await _reached.Task.WaitAsync(Timeout);
            await _stop.CancelAsync();
            // Cancelling a ClientWebSocket's receive would abort it: the read loop ends when the close arrives.
            _socket.Raw.Abort();
            await _loop.WaitAsync(Timeout);
            await _socket.DisposeAsync();
            lock (_gate)
            {
                return [.. _offsets];
            }
        }

        private async Task ReadAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                JsonElement frame;
                try
                {
                    frame = await _socket.ReceiveAsync(Timeout);
                }
                catch (Exception e) when (_stop.IsCancellationRequested && e is System.Net.WebSockets.WebSocketException or OperationCanceledException or ObjectDisposedException)
                {
                    return;
                }

                switch (frame.GetProperty("type").GetString())
                {
                    case "pub":
                        lock (_gate)
                        {
                            _offsets.Add(frame.GetProperty("offset").GetUInt64());
                            if (_offsets[^1] >= _target)
                            {
                                _reached.TrySetResult();
                            }
                        }

                        break;
                    case "lagged":
                        Lagged++;
                        break;
                    case "ping":
                        await _socket.SendAsync("""{"type":"pong"}""");
                        break;
                }
            }
        }
    }
}
