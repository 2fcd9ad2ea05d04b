using System.Text.Json;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;
using Broker.Sdk;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": a browser's <c>send</c> on any node is handled by a handler
/// registered on any node; when the handler's whole node dies with a call in flight, the call goes to another
/// handler of the group once. The backends are the SDK's <see cref="BrokerClient.HandleAsync(string, IEnumerable{string}, Func{HandlerContext, CancellationToken, ValueTask{HandlerResult}}, HandlerOptions, CancellationToken)"/>.
/// Each test has a group and events of its own, so the handlers of the shared cluster never meet.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class HandlerTests(ClusterFixture cluster)
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task A_send_on_node_a_is_answered_by_a_handler_whose_stream_is_on_node_c()
    {
        var (group, @event) = NewGroup("remote");
        var (browser, welcome) = await cluster.A.ConnectAsync("hugo");
        await using var _ = browser;

        using var stop = new CancellationTokenSource();
        var seen = new TaskCompletionSource<HandlerContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = cluster.C.Client.HandleAsync(group, [@event], (ctx, _) =>
            {
                seen.TrySetResult(ctx);
                return ValueTask.FromResult(HandlerResult.Json(new { from = "c", echo = ctx.ReadJson<JsonElement>() }));
            },
            new HandlerOptions { OnRegistered = _ => registered.TrySetResult() },
            stop.Token);
        try
        {
            // Registered comes once every live node acknowledged the handler: a send on a reaches it from then on.
            await registered.Task.WaitAsync(Timeout);
            await browser.SendJsonAsync(new { type = "send", id = 5, @event, data = new { sku = "a1" } });

            var reply = await browser.NextFrameAsync();
            Assert.Equal(("reply", 5L), (reply.GetProperty("type").GetString(), reply.GetProperty("id").GetInt64()));
            Assert.Equal("c", reply.GetProperty("data").GetProperty("from").GetString());
            Assert.Equal("a1", reply.GetProperty("data").GetProperty("echo").GetProperty("sku").GetString());

            // The handler on c was told who sent it, on a.
            var ctx = await seen.Task.WaitAsync(Timeout);
            Assert.Equal((@event, group), (ctx.Event, ctx.Group));
            Assert.Equal("hugo", ctx.From.UserId);
            Assert.Equal(welcome.GetProperty("sessionId").GetString(), ctx.From.SessionId);
            Assert.Equal(welcome.GetProperty("connectionId").GetString(), ctx.From.ConnectionId);
        }
        finally
        {
            await stop.CancelAsync();
            await host.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task A_call_held_by_a_handler_on_a_node_killed_goes_once_to_the_groups_handler_on_another_node_and_the_browser_gets_its_reply()
    {
        var (group, @event) = NewGroup("killed");
        // The handler's node is a fourth member of the cluster, killed here; the browser's node (a) and the second
        // handler's (b) are shared and live on.
        await using var doomed = await cluster.StartNodeAsync("node-k3");
        var (browser, _) = await cluster.A.ConnectAsync("hana");
        await using var _1 = browser;

        using var stop = new CancellationTokenSource();
        var held = new TaskCompletionSource<HandlerContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomedRegistered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var survivorRegistered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // What b's handler was given, read while it ran (the context's data is not the test's to keep).
        var survivorCalls = new List<(int N, string Event, ClientInfo From, DateTimeOffset Deadline)>();
        var doomedHost = doomed.Client.HandleAsync(group, [@event], async (ctx, ct) =>
            {
                // Holds the call without replying until its stream is gone (the node killed).
                held.TrySetResult(ctx);
                try
                {
                    await Task.Delay(System.Threading.Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }

                return HandlerResult.Json(new { from = "killed node" });
            },
            new HandlerOptions { OnRegistered = _ => doomedRegistered.TrySetResult() },
            stop.Token);
        Task? survivorHost = null;
        try
        {
            await doomedRegistered.Task.WaitAsync(Timeout);
            await browser.SendJsonAsync(new { type = "send", id = 6, @event, data = new { n = 6 } });
            var first = await held.Task.WaitAsync(Timeout);

            // Only now a second handler of the group, on b: the call was the killed node's handler's to hold.
            survivorHost = cluster.B.Client.HandleAsync(group, [@event], (ctx, _) =>
                {
                    var n = ctx.ReadJson<JsonElement>().GetProperty("n").GetInt32();
                    lock (survivorCalls)
                    {
                        survivorCalls.Add((n, ctx.Event, ctx.From, ctx.Deadline));
                    }

                    return ValueTask.FromResult(HandlerResult.Json(new { from = "b", n }));
                },
                new HandlerOptions { OnRegistered = _ => survivorRegistered.TrySetResult() },
                stop.Token);
            await survivorRegistered.Task.WaitAsync(Timeout);

            doomed.Process.Kill();

            var reply = await browser.NextFrameAsync();
            Assert.Equal(("reply", 6L), (reply.GetProperty("type").GetString(), reply.GetProperty("id").GetInt64()));
            Assert.Equal("b", reply.GetProperty("data").GetProperty("from").GetString());
            Assert.Equal(6, reply.GetProperty("data").GetProperty("n").GetInt32());

            // Once: a next call (after it on the same path, a to b) comes to b right behind it, with no copy between.
            await browser.SendJsonAsync(new { type = "send", id = 7, @event, data = new { n = 7 } });
            var next = await browser.NextFrameAsync();
            Assert.Equal(("reply", 7L), (next.GetProperty("type").GetString(), next.GetProperty("id").GetInt64()));
            Assert.Equal(7, next.GetProperty("data").GetProperty("n").GetInt32());
            (int N, string Event, ClientInfo From, DateTimeOffset Deadline)[] calls;
            lock (survivorCalls)
            {
                calls = [.. survivorCalls];
            }

            Assert.Equal([6, 7], calls.Select(static c => c.N));

            // The same call: the browser's, with the deadline it had (the browser's node keeps it).
            var again = calls[0];
            Assert.Equal((first.Event, first.From, first.Deadline), (again.Event, again.From, again.Deadline));
        }
        finally
        {
            await stop.CancelAsync();
            await doomedHost.WaitAsync(Timeout);
            if (survivorHost is not null)
            {
                await survivorHost.WaitAsync(Timeout);
            }
        }
    }

    /// <summary>A group and an event name no other test uses.</summary>
    private static (string Group, string Event) NewGroup(string name)
    {
        var unique = Guid.NewGuid().ToString("N")[..12];
        return ($"{name}-{unique}", $"{name}.{unique}");
    }
}
