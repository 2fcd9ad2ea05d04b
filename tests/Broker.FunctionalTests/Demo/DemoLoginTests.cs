using System.Net.Http.Json;
using System.Text.Json;
using Broker.FunctionalTests.Infrastructure;

namespace Broker.FunctionalTests.Demo;

public class DemoLoginTests
{
    [Fact]
    public async Task WhenEnabledANameBecomesTheSessionsUserAndReachesTheSocket()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "true" });
        var cookies = new CookieContainer();
        using var http = server.CreateWebClient(cookies);
        var login = await http.PostAsJsonAsync("/demo/login", new { name = "alice" }).WaitAsync(BrokerServer.DefaultTimeout);
        login.EnsureSuccessStatusCode();
        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("alice", body.GetProperty("userId").GetString());

        var ticket = await (await http.PostAsync("/tickets", null).WaitAsync(BrokerServer.DefaultTimeout)).Content.ReadFromJsonAsync<JsonElement>();
        await using var socket = await TestSocket.ConnectAsync(server);
        await socket.SendJsonAsync(new { type = "hello", ticket = ticket.GetProperty("ticket").GetString() });
        var welcome = await socket.ExpectAsync("welcome");
        Assert.Equal("alice", welcome.GetProperty("userId").GetString());
        Assert.Equal(body.GetProperty("sessionId").GetString(), welcome.GetProperty("sessionId").GetString());
    }

    [Theory]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"name":"has space"}""")]
    [InlineData("""{"name":"$user"}""")]
    [InlineData("""{"nom":"x"}""")]
    [InlineData("not json")]
    public async Task ABadNameIsABadRequest(string json)
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "true" });
        using var http = server.CreateWebClient(new CookieContainer());
        var reply = await http.PostAsync("/demo/login", new StringContent(json, System.Text.Encoding.UTF8, "application/json")).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Equal(HttpStatusCode.BadRequest, reply.StatusCode);
    }

    [Fact]
    public async Task ABadNameIsToldTheRuleInPlainJson()
    {
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "true" });
        using var http = server.CreateWebClient(new CookieContainer());
        var reply = await http.PostAsync("/demo/login", new StringContent("""{"name":"has space"}""", System.Text.Encoding.UTF8, "application/json")).WaitAsync(BrokerServer.DefaultTimeout);
        string body = await reply.Content.ReadAsStringAsync().WaitAsync(BrokerServer.DefaultTimeout);

        // The rule, with its apostrophes written as apostrophes (no \u0027).
        Assert.Contains("'name' must be 1-", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenDisabledThereIsNoLogin()
    {
        // Said explicitly: the test server runs as Development, whose appsettings turn the demo on.
        await using var server = await BrokerServer.StartAsync(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "false" });
        using var http = server.CreateWebClient(new CookieContainer());
        var reply = await http.PostAsJsonAsync("/demo/login", new { name = "alice" }).WaitAsync(BrokerServer.DefaultTimeout);
        Assert.Equal(HttpStatusCode.NotFound, reply.StatusCode);
    }
}
