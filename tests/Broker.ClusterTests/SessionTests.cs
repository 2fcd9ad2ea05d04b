using System.Text.Json;
using Broker.ClusterTests.Infrastructure;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.ClusterTests;

/// <summary>
/// PROTOCOL.md, "Running several brokers (cluster)": a session cookie made on one node is valid on every node;
/// a ticket minted on one node is consumed once, on any node.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SessionTests(ClusterFixture cluster)
{
    [Fact]
    public async Task A_session_cookie_made_on_one_node_works_on_the_others()
    {
        // The session, made on node a.
        var jar = new CookieContainer();
        using var a = cluster.A.CreateWebClient(jar);
        using var made = await a.PostAsync("/session", null);
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        var sessionId = JsonDocument.Parse(await made.Content.ReadAsStringAsync()).RootElement.GetProperty("sessionId").GetString();
        var cookie = jar.GetCookieHeader(cluster.A.WebAddress);
        Assert.Contains("broker.session=", cookie, StringComparison.Ordinal);

        // Node b mints a ticket for it; node c takes the cookie itself on the upgrade.
        using var b = cluster.B.CreateWebClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/tickets") { Headers = { { "Cookie", cookie } } };
        using var ticketReply = await b.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ticketReply.StatusCode);
        var ticket = JsonDocument.Parse(await ticketReply.Content.ReadAsStringAsync()).RootElement.GetProperty("ticket").GetString();

        await using (var byCookie = await TestSocket.ConnectAsync(cluster.C.WebSocketAddress, headers: new Dictionary<string, string> { ["Cookie"] = cookie }))
        {
            await byCookie.SendJsonAsync(new { type = "hello", id = 1 });
            Assert.Equal(sessionId, (await byCookie.ExpectAsync("welcome")).GetProperty("sessionId").GetString());
        }

        await using var byTicket = await TestSocket.ConnectAsync(cluster.A.WebSocketAddress);
        await byTicket.SendJsonAsync(new { type = "hello", id = 1, ticket });
        Assert.Equal(sessionId, (await byTicket.ExpectAsync("welcome")).GetProperty("sessionId").GetString());
    }

    [Fact]
    public async Task A_ticket_minted_on_one_node_is_consumed_once_on_any_node()
    {
        var ticket = await cluster.A.Client.IssueTicketAsync(userId: "tina").WaitAsync(BrokerServer.DefaultTimeout);

        await using var first = await TestSocket.ConnectAsync(cluster.B.WebSocketAddress);
        await first.SendJsonAsync(new { type = "hello", id = 1, ticket = ticket.Ticket });
        var welcome = await first.ExpectAsync("welcome");
        Assert.Equal("tina", welcome.GetProperty("userId").GetString());
        Assert.Equal(ticket.SessionId, welcome.GetProperty("sessionId").GetString());

        // The same ticket again, on a third node: used up.
        await using var second = await TestSocket.ConnectAsync(cluster.C.WebSocketAddress);
        await second.SendJsonAsync(new { type = "hello", id = 1, ticket = ticket.Ticket });
        await second.ExpectErrorAsync("unauthorized");
        Assert.Equal(1008, await second.ExpectCloseAsync());
    }
}
