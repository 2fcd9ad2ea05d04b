using System.Net.WebSockets;

namespace Broker.SdkTests.Functional;

/// <summary><c>IssueTicket</c>, <c>Disconnect</c>, <c>History</c> and <c>Presence</c> through the SDK against the real broker.</summary>
public sealed class AdminTests
{
    private static readonly TimeSpan Timeout = SdkTestBroker.Timeout;

    [Fact]
    public async Task IssueTicket_makes_a_session_a_browser_can_hello_with_and_reissues_for_it()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var (socket, welcome) = await SdkTestBroker.BrowserAsync(server, client, "alice");
        await using (socket)
        {
            Assert.Equal("alice", welcome.GetProperty("userId").GetString());
        }

        var sessionId = welcome.GetProperty("sessionId").GetString()!;
        var again = await client.IssueTicketAsync(sessionId, ttl: TimeSpan.FromSeconds(5)).WaitAsync(Timeout);
        Assert.Equal(sessionId, again.SessionId);
        Assert.InRange(again.ExpiresAt, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(6));
        await using var second = await Broker.FunctionalTests.Infrastructure.TestSocket.ConnectAsync(server);
        await second.SendJsonAsync(new { type = "hello", id = 1, ticket = again.Ticket });
        var welcome2 = await second.ExpectAsync("welcome");
        Assert.Equal(sessionId, welcome2.GetProperty("sessionId").GetString());
        Assert.Equal("alice", welcome2.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task IssueTicket_for_an_unknown_session_is_NOT_FOUND_and_a_bad_ip_is_INVALID_ARGUMENT()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var error = await Assert.ThrowsAsync<BrokerException>(() => client.IssueTicketAsync("no-such-session").WaitAsync(Timeout));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("not_found", error.ErrorCode);
        error = await Assert.ThrowsAsync<BrokerException>(() => client.IssueTicketAsync(clientIp: "not-an-ip").WaitAsync(Timeout));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Disconnect_closes_the_users_connections_with_4002_and_counts_them()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var (socket, _) = await SdkTestBroker.BrowserAsync(server, client, "mallory");
        await using (socket)
        {
            var closed = await client.DisconnectAsync(null, "mallory", "bye now", reconnect: false).WaitAsync(Timeout);
            Assert.Equal(1, closed);
            var frame = await socket.SkipToAsync("disconnect");
            Assert.Equal(4002, frame.GetProperty("code").GetInt32());
            Assert.Equal("bye now", frame.GetProperty("reason").GetString());
            Assert.False(frame.GetProperty("reconnect").GetBoolean());
            Assert.Equal(4002, await socket.ExpectCloseAsync());
        }

        Assert.Equal(0, await client.DisconnectAsync(null, "mallory", "again").WaitAsync(Timeout));
        var error = await Assert.ThrowsAsync<BrokerException>(() => client.DisconnectAsync(null, null, "who?").WaitAsync(Timeout));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task History_reads_after_a_position_with_a_limit_or_the_newest()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        PublishResult second = default;
        for (var i = 1; i <= 5; i++)
        {
            var r = await client.PublishAsync("chat:lobby", new { i }).WaitAsync(Timeout);
            if (i == 2)
            {
                second = r;
            }
        }

        var page = await client.HistoryAsync("chat:lobby", second.Position, limit: 2).WaitAsync(Timeout);
        Assert.True(page.Recovered);
        Assert.Equal([3UL, 4UL], page.Publications.Select(p => p.Offset));
        Assert.Equal(5UL, page.Position.Offset);
        Assert.Equal(second.Epoch, page.Position.Epoch);

        var newest = await client.HistoryAsync("chat:lobby", limit: 2).WaitAsync(Timeout);
        Assert.Equal([4UL, 5UL], newest.Publications.Select(p => p.Offset));

        var lost = await client.HistoryAsync("chat:lobby", new StreamPosition("old-epoch", 1)).WaitAsync(Timeout);
        Assert.False(lost.Recovered);

        var error = await Assert.ThrowsAsync<BrokerException>(() => client.HistoryAsync("bad channel").WaitAsync(Timeout));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Presence_lists_every_session_with_its_user_and_connections()
    {
        await using var server = await SdkTestBroker.StartAsync();
        await using var client = SdkTestBroker.Client(server);
        var (socket, welcome) = await SdkTestBroker.BrowserAsync(server, client, "peggy");
        await using (socket)
        {
            await socket.SendJsonAsync(new { type = "subscribe", id = 2, channel = "chat:lobby" });
            await socket.ExpectAsync("subscribed");
            var members = await client.PresenceAsync("chat:lobby").WaitAsync(Timeout);
            var member = Assert.Single(members);
            Assert.Equal("peggy", member.UserId);
            Assert.Equal(welcome.GetProperty("sessionId").GetString(), member.SessionId);
            Assert.Equal(1, member.Connections);
        }

        var error = await Assert.ThrowsAsync<BrokerException>(() => client.PresenceAsync("nohist:x").WaitAsync(Timeout));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }
}
