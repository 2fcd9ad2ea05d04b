using System.Text.Json;
using Broker.Sessions;

namespace Broker.FunctionalTests.Infrastructure;

/// <summary>Ways a test gets an authenticated socket, as a page or a backend would.</summary>
public static class BrokerClients
{
    /// <summary>A ticket for a new session with <paramref name="userId"/>, minted as a backend's IssueTicket would.</summary>
    public static async Task<string> IssueTicketAsync(this BrokerServer server, string? userId = null, string? sessionId = null)
    {
        var tickets = server.Services.GetRequiredService<TicketService>();
        var result = await tickets.IssueAsync(sessionId, userId).AsTask().WaitAsync(BrokerServer.DefaultTimeout);
        Assert.True(result.Succeeded, result.ToString());
        return result.Ticket!;
    }

    /// <summary>Connects, says hello with a fresh ticket for <paramref name="userId"/>, and returns the socket and its welcome.</summary>
    public static async Task<(TestSocket Socket, JsonElement Welcome)> ConnectAsync(this BrokerServer server, string? userId = "alice", object? resume = null)
    {
        var ticket = await server.IssueTicketAsync(userId);
        var socket = await TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(resume is null
            ? new { type = "hello", id = 1, ticket }
            : new { type = "hello", id = 1, ticket, resume });
        var welcome = await socket.ExpectAsync("welcome");
        return (socket, welcome);
    }

    /// <summary>As <see cref="ConnectAsync"/>, for a test that needs the socket and not its welcome.</summary>
    public static async Task<TestSocket> ConnectSocketAsync(this BrokerServer server, string? userId = "alice")
    {
        var (socket, _) = await server.ConnectAsync(userId);
        return socket;
    }

    /// <summary>
    /// Publishes, as a backend, a burst far bigger than a socket's buffers (3,000 × 4 KB by default): a
    /// subscriber that reads nothing meanwhile makes its writer block on the full socket, so its queue
    /// overflows behind it.
    /// </summary>
    public static async Task FloodAsync(this BrokerServer server, string channel, int count = 3000, int payloadBytes = 4000)
    {
        var hub = server.Services.GetRequiredService<Broker.Core.Hub>();
        var payload = System.Text.Encoding.UTF8.GetBytes("\"" + new string('x', payloadBytes) + "\"");
        for (int i = 0; i < count; i++)
        {
            await hub.PublishAsync(new Broker.Engines.PublishCommand(channel, "message", payload), default);
        }
    }

    /// <summary>Subscribes and returns the <c>subscribed</c> frame.</summary>
    public static async Task<JsonElement> SubscribeAsync(this TestSocket socket, string channel, long id = 2, object? since = null)
    {
        await socket.SendJsonAsync(since is null
            ? new { type = "subscribe", id, channel }
            : new { type = "subscribe", id, channel, since });
        var subscribed = await socket.ExpectAsync("subscribed");
        Assert.Equal(id, subscribed.GetProperty("id").GetInt64());
        Assert.Equal(channel, subscribed.GetProperty("channel").GetString());
        return subscribed;
    }

    /// <summary>Publishes with an id and returns the ack.</summary>
    public static async Task<JsonElement> PublishAsync(this TestSocket socket, string channel, object data, long id = 3, string? @event = null)
    {
        await socket.SendJsonAsync(@event is null
            ? new { type = "publish", id, channel, data }
            : (object)new { type = "publish", id, channel, @event, data });
        var ack = await socket.ExpectAsync("ack");
        Assert.Equal(id, ack.GetProperty("id").GetInt64());
        return ack;
    }
}
