using System.Net.WebSockets;
using System.Text;
using Broker.Core;
using Broker.Engines;
using Broker.FunctionalTests.Grpc;
using Broker.FunctionalTests.Infrastructure;
using Grpc.Core;
using Broker.Lifecycle;
using Broker.V1;
using Google.Protobuf;
using static Broker.FunctionalTests.WebSockets.WebSocketTestConfig;

namespace Broker.FunctionalTests.Lifecycle;

/// <summary>The graceful drain (PROTOCOL.md, "Running the broker") seen from live clients of a real broker being stopped.</summary>
public class DrainTests
{
    [Fact]
    public async Task StoppingDrainsSocketsAndStreamsAndRefusesNewcomers()
    {
        await using var server = await BrokerServer.StartAsync(With(("Broker:DrainTimeout", "00:00:10")));
        using var metrics = new ServerMetrics(server);
        using var web = server.CreateWebClient();
        Assert.Equal(HttpStatusCode.OK, (await web.GetAsync("/readyz")).StatusCode);

        await using var socket = await server.ConnectSocketAsync("alice");
        await socket.SubscribeAsync("chat:a");

        using var grpc = new GrpcTestClient(server);
        using var subscribe = grpc.Invoker.AsyncServerStreamingCall(BrokerMethods.Subscribe, null, grpc.Options(), new SubscribeRequest { Channels = { "room:a" } });
        Assert.True(await subscribe.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        using var handle = grpc.Invoker.AsyncDuplexStreamingCall(BrokerMethods.Handle, null, grpc.Options());
        await handle.RequestStream.WriteAsync(new HandlerMessage { Register = new HandlerRegistration { Group = "g", Events = { "e" } } }).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(await handle.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));
        using var publishStream = grpc.Invoker.AsyncDuplexStreamingCall(BrokerMethods.PublishStream, null, grpc.Options());
        await publishStream.RequestStream.WriteAsync(new PublishRequest { Channel = "room:a", Data = ByteString.CopyFromUtf8("1"), RequestId = 1 }).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(await publishStream.ResponseStream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout));

        var stopping = server.StopAsync();

        // The socket: `disconnect` {code 1001, reconnect true}, then close 1001. Until the test reads (and so
        // answers) the close, the socket keeps the drain open, so the newcomers meet a draining broker.
        var disconnect = await socket.SkipToAsync("disconnect");
        Assert.Equal(1001, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.False(string.IsNullOrEmpty(disconnect.GetProperty("reason").GetString()));

        // Newcomers: not ready, still alive, upgrades 503, new calls UNAVAILABLE.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await web.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await web.GetAsync("/healthz")).StatusCode);
        using (var refused = new ClientWebSocket())
        {
            refused.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAnyAsync<WebSocketException>(() => refused.ConnectAsync(server.WebSocketAddress, CancellationToken.None).WaitAsync(BrokerServer.DefaultTimeout));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.HttpStatusCode);
        }

        var late = await Assert.ThrowsAsync<RpcException>(() => grpc.PublishAsync("room:a", "2"));
        Assert.Equal(StatusCode.Unavailable, late.StatusCode);

        Assert.Equal(1001, await socket.ExpectCloseAsync());

        // Every running stream ends UNAVAILABLE.
        Assert.Equal(StatusCode.Unavailable, await EndStatusAsync(subscribe.ResponseStream));
        Assert.Equal(StatusCode.Unavailable, await EndStatusAsync(handle.ResponseStream));
        Assert.Equal(StatusCode.Unavailable, await EndStatusAsync(publishStream.ResponseStream));

        // Nothing is left: the drain ends well inside its timeout.
        Assert.True(socket.Raw.State is WebSocketState.Closed or WebSocketState.CloseReceived);
        await socket.AnswerCloseAsync();

        await stopping.WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "Draining");
    }

    [Fact]
    public async Task WhatIsStillQueuedForASocketAtTheDrainIsCountedAsAShutdownDrop()
    {
        // A queue big enough to hold the whole burst, so nothing is dropped for overflow and most of it is
        // still queued when the drain begins (a small DropOldest queue would keep only its newest few, and the
        // writer could send those before the drain: then nothing would be left to count).
        await using var server = await BrokerServer.StartAsync(With());
        using var metrics = new ServerMetrics(server);
        await using var socket = await server.ConnectSocketAsync();
        await socket.SubscribeAsync("big:feed");

        // The client reads nothing while 40 MB is published, far more than loopback's socket buffers take:
        // the writer blocks on the full socket with the rest queued behind it.
        await server.FloodAsync("big:feed", count: 5000, payloadBytes: 8000);

        // Drain now (callbacks run before BeginDrain returns), then read: the blocked batch goes out, then
        // `disconnect` and close 1001, never the queued publications.
        server.Services.GetRequiredService<DrainState>().BeginDrain();
        var disconnect = await socket.SkipToAsync("disconnect");
        Assert.Equal(1001, disconnect.GetProperty("code").GetInt32());
        Assert.Equal(1001, await socket.ExpectCloseAsync());
        await socket.AnswerCloseAsync();

        await metrics.WaitForSumAsync("broker.messages.dropped", 1, "shutdown");
    }

    /// <summary>Reads a stream to its end and returns the status it ended with.</summary>
    private static async Task<StatusCode> EndStatusAsync<T>(IAsyncStreamReader<T> stream)
    {
        try
        {
            while (await stream.MoveNext(default).WaitAsync(BrokerServer.DefaultTimeout))
            {
            }

            return StatusCode.OK;
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
    }
}
