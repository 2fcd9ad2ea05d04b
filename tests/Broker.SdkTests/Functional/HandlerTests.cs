using System.Text.Json;
using System.Text;

namespace Broker.SdkTests.Functional;

/// <summary>The handler host (<c>Handle</c>) against the real broker, driven by a real browser WebSocket's <c>send</c>.</summary>
public sealed class HandlerTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task A_send_reaches_the_handler_with_its_sender_and_the_reply_reaches_the_browser()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        using var stop = new CancellationTokenSource();
        var registered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        HandlerContext? seen = null;
        var host = client.HandleAsync(
            "echo",
            ["echo.*"],
            (context, _) =>
            {
                seen = context;
                var input = context.ReadJson<JsonElement>();
                return ValueTask.FromResult(HandlerResult.Json(new { echoed = input.GetProperty("text").GetString(), context.Event }));
            },
            new HandlerOptions { OnRegistered = id => registered.TrySetResult(id) },
            stop.Token);
        var handlerId = await registered.Task.WaitAsync(Timeout);

        var (socket, welcome) = await SdkTestBroker.BrowserAsync(server, client, "alice");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 7, @event = "echo.say", data = new { text = "hi" } });
            var reply = await socket.ExpectAsync("reply");
            Assert.Equal(7, reply.GetProperty("id").GetInt32());
            Assert.Equal("hi", reply.GetProperty("data").GetProperty("echoed").GetString());
            Assert.Equal("echo.say", reply.GetProperty("data").GetProperty("event").GetString());
        }

        Assert.NotNull(seen);
        Assert.Equal("alice", seen.From.UserId);
        Assert.Equal(welcome.GetProperty("sessionId").GetString(), seen.From.SessionId);
        Assert.Equal(welcome.GetProperty("connectionId").GetString(), seen.From.ConnectionId);
        Assert.Equal("echo", seen.Group);
        Assert.Equal(handlerId, seen.HandlerId);
        Assert.InRange(seen.Deadline, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(11));

        await stop.CancelAsync();
        // Cancellation stops the host cleanly: the Task completes, it does not throw.
        await host.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Error_results_and_handler_exceptions_become_the_browsers_error_frames()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        using var stop = new CancellationTokenSource();
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = 0;
        var host = client.HandleAsync(
            "errors",
            ["err.code", "err.throw", "err.broker"],
            (context, _) => context.Event switch
            {
                "err.code" => ValueTask.FromResult(HandlerResult.Error("forbidden", "Not you.")),
                "err.broker" => throw new BrokerException(StatusCode.NotFound, "not_found", "No such thing."),
                _ => throw new InvalidOperationException("secret internals"),
            },
            new HandlerOptions { OnRegistered = _ => registered.TrySetResult(), OnHandlerError = (_, _) => Interlocked.Increment(ref failures) },
            stop.Token);
        await registered.Task.WaitAsync(Timeout);

        var (socket, _) = await SdkTestBroker.BrowserAsync(server, client, "bob");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "err.code", data = 1 });
            var error = await socket.ExpectErrorAsync("forbidden", 1);
            Assert.Equal("Not you.", error.GetProperty("message").GetString());

            await socket.SendJsonAsync(new { type = "send", id = 2, @event = "err.broker", data = 1 });
            await socket.ExpectErrorAsync("not_found", 2);

            await socket.SendJsonAsync(new { type = "send", id = 3, @event = "err.throw", data = 1 });
            error = await socket.ExpectErrorAsync("internal", 3);
            Assert.DoesNotContain("secret", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(1, failures);
        await stop.CancelAsync();
        await host.WaitAsync(Timeout);
    }

    [Fact]
    public async Task The_handlers_token_is_cancelled_at_the_deadline_and_the_browser_gets_timeout()
    {
        await using var server = await SdkTestBroker.StartAsync(("Broker:Handlers:Timeout", "00:00:01"));
        await using var client = SdkTestBroker.Client(server);
        using var stop = new CancellationTokenSource();
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledAt = new TaskCompletionSource<(DateTimeOffset At, DateTimeOffset Deadline)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = client.HandleAsync(
            "slow",
            ["slow"],
            async (context, token) =>
            {
                try
                {
                    await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, token);
                }
                catch (OperationCanceledException)
                {
                    cancelledAt.TrySetResult((DateTimeOffset.UtcNow, context.Deadline));
                    throw;
                }

                return HandlerResult.Ok();
            },
            new HandlerOptions { OnRegistered = _ => registered.TrySetResult() },
            stop.Token);
        await registered.Task.WaitAsync(Timeout);

        var (socket, _) = await SdkTestBroker.BrowserAsync(server, client, "carol");
        await using (socket)
        {
            var sent = DateTimeOffset.UtcNow;
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "slow", data = 1 });
            await socket.ExpectErrorAsync("timeout", 1);
            var (at, deadline) = await cancelledAt.Task.WaitAsync(Timeout);
            Assert.InRange(deadline, sent, sent.AddSeconds(3));
            // Cancelled at the deadline (timer granularity aside), not at the end of the stream.
            Assert.InRange(at, deadline.AddMilliseconds(-50), deadline.AddSeconds(2));
        }

        Assert.False(host.IsCompleted, "A timed-out message does not stop the host.");
        await stop.CancelAsync();
        await host.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Work_in_flight_on_a_handler_that_goes_away_is_redelivered_to_another_handler_of_the_group()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var clientA = SdkTestBroker.Client(server);
        await using var clientB = SdkTestBroker.Client(server);
        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource();
        var registeredA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registeredB = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receivedA = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        var receivedB = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);

        var hostA = clientA.HandleAsync(
            "workers",
            ["job"],
            async (context, token) =>
            {
                receivedA.TrySetResult(context.InboundId);
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, token);
                return HandlerResult.Json(new { by = "A" });
            },
            new HandlerOptions { OnRegistered = _ => registeredA.TrySetResult() },
            stopA.Token);
        await registeredA.Task.WaitAsync(Timeout);

        var (socket, _) = await SdkTestBroker.BrowserAsync(server, clientA, "dave");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "job", data = new { n = 1 } });
            var inboundId = await receivedA.Task.WaitAsync(Timeout);

            var hostB = clientB.HandleAsync(
                "workers",
                ["job"],
                (context, _) =>
                {
                    receivedB.TrySetResult(context.InboundId);
                    return ValueTask.FromResult(HandlerResult.Json(new { by = "B" }));
                },
                new HandlerOptions { OnRegistered = _ => registeredB.TrySetResult() },
                stopB.Token);
            await registeredB.Task.WaitAsync(Timeout);

            // A stops with the job in flight: its stream ends and the broker hands the job to B.
            await stopA.CancelAsync();
            await hostA.WaitAsync(Timeout);
            Assert.Equal(inboundId, await receivedB.Task.WaitAsync(Timeout));
            var reply = await socket.ExpectAsync("reply");
            Assert.Equal("B", reply.GetProperty("data").GetProperty("by").GetString());

            await stopB.CancelAsync();
            await hostB.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task The_host_reconnects_and_re_registers_after_its_connection_drops()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var proxy = new TcpProxy(server.GrpcAddress);
        await using var client = SdkTestBroker.Client(proxy.Address);
        await using var admin = SdkTestBroker.Client(server);
        using var stop = new CancellationTokenSource();
        var registrations = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var host = client.HandleAsync(
            "echo",
            ["ping"],
            (_, _) => ValueTask.FromResult(HandlerResult.Ok(Encoding.UTF8.GetBytes("\"pong\""))),
            new HandlerOptions { OnRegistered = id => registrations.Writer.TryWrite(id) },
            stop.Token);
        var first = await registrations.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        proxy.CutAll();
        var second = await registrations.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.NotEqual(first, second);

        var (socket, _) = await SdkTestBroker.BrowserAsync(server, admin, "erin");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "ping", data = 1 });
            Assert.Equal("pong", (await socket.ExpectAsync("reply")).GetProperty("data").GetString());
        }

        await stop.CancelAsync();
        await host.WaitAsync(Timeout);
    }

    [Fact]
    public async Task At_most_MaxConcurrency_messages_are_handled_at_once()
    {
        const int Sends = 6;
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        using var stop = new CancellationTokenSource();
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var twoRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0, peak = 0;
        var host = client.HandleAsync(
            "bounded",
            ["work"],
            async (_, token) =>
            {
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref peak, now);
                if (now == 2)
                {
                    twoRunning.TrySetResult();
                }

                await release.Task.WaitAsync(token);
                Interlocked.Decrement(ref running);
                return HandlerResult.Ok();
            },
            new HandlerOptions { MaxConcurrency = 2, OnRegistered = _ => registered.TrySetResult() },
            stop.Token);
        await registered.Task.WaitAsync(Timeout);

        var (socket, _) = await SdkTestBroker.BrowserAsync(server, client, "grace");
        await using (socket)
        {
            for (var id = 1; id <= Sends; id++)
            {
                await socket.SendJsonAsync(new { type = "send", id, @event = "work", data = id });
            }

            await twoRunning.Task.WaitAsync(Timeout);
            release.TrySetResult();
            var replies = new HashSet<int>();
            while (replies.Count < Sends)
            {
                replies.Add((await socket.ExpectAsync("reply")).GetProperty("id").GetInt32());
            }
        }

        Assert.Equal(2, Volatile.Read(ref peak));
        await stop.CancelAsync();
        await host.WaitAsync(Timeout);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public async Task A_wrong_api_key_faults_the_host_with_UNAUTHENTICATED()
    {
        await using var server = await SdkTestBroker.StartAsync(("Broker:Grpc:ApiKeys:0", "s3cret"));
        await using var client = SdkTestBroker.Client(server, o => o.ApiKey = "wrong");
        var error = await Assert.ThrowsAsync<BrokerException>(() => client.HandleAsync("g", ["e"], (_, _) => ValueTask.FromResult(HandlerResult.Ok())).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_send_with_no_handler_is_unavailable_for_the_browser()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var (socket, _) = await SdkTestBroker.BrowserAsync(server, client, "frank");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "send", id = 1, @event = "nobody.home", data = 1 });
            await socket.ExpectErrorAsync("unavailable", 1);
        }
    }
}
