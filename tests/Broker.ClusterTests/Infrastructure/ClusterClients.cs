using System.Net.WebSockets;
using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.ClusterTests.Infrastructure;

/// <summary>Browser-like WebSocket clients of a node, and reading publications off them.</summary>
public static class ClusterClients
{
    /// <summary>A fresh channel name in the <c>chat</c> namespace (history 100, presence on), so tests sharing the cluster never meet.</summary>
    public static string NewChannel(string name) => $"chat:{name}-{Guid.NewGuid():N}";

    /// <summary>
    /// Opens a socket to <paramref name="node"/> with a ticket minted (gRPC <c>IssueTicket</c>) on
    /// <paramref name="ticketFrom"/> (default: the same node) for <paramref name="userId"/>; returns it after
    /// <c>welcome</c>.
    /// </summary>
    public static Task<(TestSocket Socket, JsonElement Welcome)> ConnectAsync(this BrokerProcess node, string? userId = "alice", BrokerProcess? ticketFrom = null, object? resume = null) =>
        ConnectAsync(node.WebSocketAddress, (ticketFrom ?? node).Client, userId, resume);

    /// <summary>As above, to any <c>ws://…/ws</c> (a balancer), with a ticket minted by <paramref name="tickets"/>.</summary>
    public static async Task<(TestSocket Socket, JsonElement Welcome)> ConnectAsync(Uri address, Sdk.BrokerClient tickets, string? userId, object? resume = null)
    {
        var ticket = await tickets.IssueTicketAsync(userId: userId).WaitAsync(BrokerServer.DefaultTimeout);
        var socket = await TestSocket.ConnectAsync(address);
        try
        {
            await socket.SendJsonAsync(resume is null
                ? new { type = "hello", id = 1, ticket = ticket.Ticket }
                : new { type = "hello", id = 1, ticket = ticket.Ticket, resume });
            var welcome = await socket.ExpectAsync("welcome");
            return (socket, welcome);
        }
        catch
        {
            await socket.DisposeAsync();
            throw;
        }
    }

    /// <summary>As <see cref="ConnectAsync"/>, for a test that needs only the socket.</summary>
    public static async Task<TestSocket> ConnectSocketAsync(this BrokerProcess node, string? userId = "alice") => (await node.ConnectAsync(userId)).Socket;

    /// <summary>The next <c>pub</c> frame, skipping the broker's pings and the presence of the <c>chat</c> namespace (join, leave).</summary>
    public static async Task<JsonElement> NextPublicationAsync(this TestSocket socket, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await socket.ReceiveAsync(timeout);
            var type = frame.GetProperty("type").GetString();
            if (type == "pub")
            {
                return frame;
            }

            Assert.True(type is "ping" or "join" or "leave", $"expected a 'pub' frame, got {frame}");
        }
    }

    /// <summary>The next frame that is not a ping.</summary>
    public static async Task<JsonElement> NextFrameAsync(this TestSocket socket, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await socket.ReceiveAsync(timeout);
            if (frame.GetProperty("type").GetString() != "ping")
            {
                return frame;
            }
        }
    }

    /// <summary>The next frame that is neither a ping nor the presence of the <c>chat</c> namespace (join, leave).</summary>
    public static async Task<JsonElement> NextFrameSkippingPresenceAsync(this TestSocket socket, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await socket.NextFrameAsync(timeout);
            if (frame.GetProperty("type").GetString() is not ("join" or "leave"))
            {
                return frame;
            }
        }
    }

    /// <summary>A publication's offset.</summary>
    public static long Offset(this JsonElement frame) => frame.GetProperty("offset").GetInt64();

    /// <summary>A publication's epoch.</summary>
    public static string Epoch(this JsonElement frame) => frame.GetProperty("epoch").GetString()!;

    /// <summary>Reads until the socket breaks (a killed node: no close frame), or the timeout passes.</summary>
    public static async Task<List<JsonElement>> ReadUntilBrokenAsync(this TestSocket socket, TimeSpan timeout)
    {
        var frames = new List<JsonElement>();
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            while (true)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"the socket was still open after {timeout}");
                }

                frames.Add(await socket.ReceiveAsync(left));
            }
        }
        catch (Exception e) when (e is WebSocketException or WebSocketClosedException)
        {
            return frames;
        }
    }
}
