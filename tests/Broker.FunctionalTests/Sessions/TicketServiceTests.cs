using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

/// <summary>Unit tests of <see cref="TicketService"/>: single use, expiry, IP binding, purge, IssueTicket's session rules.</summary>
public sealed class TicketServiceTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.10");

    [Fact]
    public async Task ATicket_IsUrlSafeText_WithAtLeast128RandomBits_AndUnique()
    {
        using var harness = new TicketServiceHarness();
        var tickets = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 200; i++)
        {
            var ticket = await harness.IssueAsync();
            Assert.Matches("^[A-Za-z0-9_-]{43}$", ticket); // 43 base64url characters = 256 bits
            Assert.True(tickets.Add(ticket));
        }
    }

    [Fact]
    public async Task ATicket_IsConsumedOnce()
    {
        using var harness = new TicketServiceHarness();
        var ticket = await harness.IssueAsync();

        Assert.True(harness.Tickets.TryConsume(ticket, Client, out var grant));
        Assert.False(harness.Tickets.TryConsume(ticket, Client, out var again));
        Assert.NotNull(grant);
        Assert.Null(again);
    }

    [Fact]
    public async Task AHundredParallelConsumesOfOneTicket_ExactlyOneSucceeds()
    {
        using var harness = new TicketServiceHarness();
        for (var round = 0; round < 20; round++)
        {
            var ticket = await harness.IssueAsync();
            // All 100 callers wait at the gate, then race for the same ticket.
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var consumers = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
            {
                await gate.Task;
                return harness.Tickets.TryConsume(ticket, Client, out _);
            })).ToArray();

            gate.SetResult();
            var results = await Task.WhenAll(consumers).WaitAsync(Timeout);

            Assert.Equal(1, results.Count(static won => won));
        }
    }

    [Fact]
    public async Task ATicket_ExpiresAfterTheDefaultTtlOf30Seconds()
    {
        using var harness = new TicketServiceHarness();
        var early = await harness.IssueAsync();
        var late = await harness.IssueAsync();

        harness.Time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.True(harness.Tickets.TryConsume(early, null, out _));
        harness.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(harness.Tickets.TryConsume(late, null, out _));
        Assert.Contains(harness.Log.Entries, static e => e.EventId.Name == "TicketRejected" && e.Message.Contains("Expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATicket_HonoursTheConfiguredAndTheRequestedTtl()
    {
        using var harness = new TicketServiceHarness(new TicketOptions { Ttl = TimeSpan.FromSeconds(5) });
        var byConfig = await harness.IssueAsync();
        var byRequest = await harness.IssueAsync(ttl: TimeSpan.FromMinutes(2));

        harness.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.False(harness.Tickets.TryConsume(byConfig, null, out _));
        Assert.True(harness.Tickets.TryConsume(byRequest, null, out var grant));
        Assert.Equal(harness.Time.GetUtcNow() + TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(5), grant.ExpiresAt);
    }

    [Fact]
    public async Task ABoundTicket_WorksOnlyFromItsIp_AndAWrongIpBurnsIt()
    {
        using var harness = new TicketServiceHarness();
        var stolen = await harness.IssueAsync(Client);
        var anonymousPeer = await harness.IssueAsync(Client);
        var own = await harness.IssueAsync(Client);
        var mapped = await harness.IssueAsync(Client);

        Assert.False(harness.Tickets.TryConsume(stolen, IPAddress.Parse("203.0.113.11"), out _));
        Assert.False(harness.Tickets.TryConsume(stolen, Client, out _)); // one try only
        Assert.False(harness.Tickets.TryConsume(anonymousPeer, null, out _));
        Assert.True(harness.Tickets.TryConsume(own, Client, out _));
        // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
        Assert.True(harness.Tickets.TryConsume(mapped, Client.MapToIPv6(), out _));
    }

    [Fact]
    public async Task AnUnboundTicket_WorksFromAnyIp()
    {
        using var harness = new TicketServiceHarness();
        var ticket = await harness.IssueAsync();

        Assert.True(harness.Tickets.TryConsume(ticket, IPAddress.IPv6Loopback, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-ticket")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void AnUnknownTicket_IsRefused(string? ticket)
    {
        using var harness = new TicketServiceHarness();

        Assert.False(harness.Tickets.TryConsume(ticket, Client, out var grant));
        Assert.Null(grant);
    }

    [Fact]
    public async Task ExpiredTickets_ArePurged_OnTheNextIssueAfterATtl_AndOnDemand()
    {
        using var harness = new TicketServiceHarness();
        for (var i = 0; i < 50; i++)
        {
            await harness.IssueAsync();
        }

        var longLived = await harness.IssueAsync(ttl: TimeSpan.FromHours(1));
        Assert.Equal(51, harness.Tickets.OutstandingCount);

        harness.Time.Advance(TimeSpan.FromSeconds(31));
        var fresh = await harness.IssueAsync();

        // The 50 expired ones are gone; the long-lived and the fresh one stay.
        Assert.Equal(2, harness.Tickets.OutstandingCount);
        Assert.Contains(harness.Log.Entries, static e => e.EventId.Name == "TicketsPurged");

        harness.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(1, harness.Tickets.PurgeExpired());
        Assert.True(harness.Tickets.TryConsume(longLived, null, out _));
        Assert.False(harness.Tickets.TryConsume(fresh, null, out _));
        Assert.Equal(0, harness.Tickets.OutstandingCount);
    }

    [Fact]
    public async Task IssueTicket_WithNoSessionId_MakesANewSession()
    {
        using var harness = new TicketServiceHarness();
        var claims = new Dictionary<string, string> { ["role"] = "admin" };

        var result = await harness.Tickets.IssueAsync("", "u42", claims).AsTask().WaitAsync(Timeout);

        Assert.Equal(TicketIssueStatus.Issued, result.Status);
        Assert.True(result.Succeeded);
        var stored = await harness.Store.FindByIdAsync(result.Session.SessionId).AsTask().WaitAsync(Timeout);
        Assert.NotNull(stored);
        Assert.Equal("u42", stored.UserId);
        Assert.Equal("admin", stored.Claims["role"]);
        Assert.Equal(1, harness.Store.Count);

        Assert.True(harness.Tickets.TryConsume(result.Ticket, null, out var grant));
        Assert.Equal(new TicketGrant(stored.SessionId, "u42", grant.Claims, result.ExpiresAt), grant);
        Assert.Equal("admin", grant.Claims["role"]);
    }

    [Fact]
    public async Task IssueTicket_ForAKnownSession_BindsTheUserFromThenOn()
    {
        using var harness = new TicketServiceHarness();
        var session = await harness.Sessions.CreateSessionAsync().AsTask().WaitAsync(Timeout);
        Assert.Null(session.UserId);

        var bound = await harness.Tickets.IssueAsync(session.SessionId, "alice@example.com").AsTask().WaitAsync(Timeout);
        var later = await harness.Tickets.IssueAsync(session.SessionId).AsTask().WaitAsync(Timeout);

        Assert.Equal(session.SessionId, bound.Session?.SessionId);
        Assert.Equal("alice@example.com", bound.Session?.UserId);
        Assert.True(harness.Tickets.TryConsume(later.Ticket, null, out var grant));
        Assert.Equal("alice@example.com", grant.UserId); // no user given: the bound one stays
        Assert.Equal("alice@example.com", (await harness.Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout))?.UserId);
        Assert.Equal(1, harness.Store.Count);
    }

    [Fact]
    public async Task IssueTicket_WithANewUser_RebindsTheSession()
    {
        using var harness = new TicketServiceHarness();
        var session = await harness.Sessions.CreateSessionAsync("alice").AsTask().WaitAsync(Timeout);

        var result = await harness.Tickets.IssueAsync(session.SessionId, "bob").AsTask().WaitAsync(Timeout);

        Assert.Equal("bob", result.Session?.UserId);
        Assert.Equal("bob", (await harness.Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout))?.UserId);
    }

    [Theory]
    [InlineData("unknownSessionId00000000")]
    [InlineData("has spaces")]
    [InlineData("$session:x")]
    public async Task IssueTicket_ForAnUnknownSession_IsNotFound_AndMakesNothing(string sessionId)
    {
        using var harness = new TicketServiceHarness();

        var result = await harness.Tickets.IssueAsync(sessionId, "u1").AsTask().WaitAsync(Timeout);

        Assert.Equal(TicketIssueStatus.SessionNotFound, result.Status);
        Assert.False(result.Succeeded);
        Assert.Null(result.Ticket);
        Assert.Equal(0, harness.Store.Count);
        Assert.Equal(0, harness.Tickets.OutstandingCount);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("ünïcode")]
    [InlineData("semi;colon")]
    [InlineData("star*")]
    [InlineData("new\nline")]
    public async Task IssueTicket_WithAnInvalidUserId_IsRefused(string userId)
    {
        using var harness = new TicketServiceHarness();

        var result = await harness.Tickets.IssueAsync(null, userId).AsTask().WaitAsync(Timeout);

        Assert.Equal(TicketIssueStatus.InvalidUserId, result.Status);
        Assert.Equal(0, harness.Store.Count);
    }

    [Fact]
    public async Task IssueTicket_WithANonPositiveTtl_IsRefused()
    {
        using var harness = new TicketServiceHarness();

        var zero = await harness.Tickets.IssueAsync(null, ttl: TimeSpan.Zero).AsTask().WaitAsync(Timeout);
        var negative = await harness.Tickets.IssueAsync(null, ttl: TimeSpan.FromSeconds(-1)).AsTask().WaitAsync(Timeout);

        Assert.Equal(TicketIssueStatus.InvalidTtl, zero.Status);
        Assert.Equal(TicketIssueStatus.InvalidTtl, negative.Status);
    }

    [Fact]
    public async Task IssueTicket_GivenClaims_PutsThemInTheGrant_ElseTheSessionsClaims()
    {
        using var harness = new TicketServiceHarness();
        var session = await harness.Sessions.CreateSessionAsync("u1", new Dictionary<string, string> { ["plan"] = "free" }).AsTask().WaitAsync(Timeout);
        var given = new Dictionary<string, string> { ["plan"] = "pro" };

        var withClaims = await harness.Tickets.IssueAsync(session.SessionId, claims: given).AsTask().WaitAsync(Timeout);
        given["plan"] = "changed after the call";
        var without = await harness.Tickets.IssueAsync(session.SessionId).AsTask().WaitAsync(Timeout);

        Assert.True(harness.Tickets.TryConsume(withClaims.Ticket, null, out var first));
        Assert.True(harness.Tickets.TryConsume(without.Ticket, null, out var second));
        Assert.Equal("pro", first.Claims["plan"]);
        Assert.Equal("free", second.Claims["plan"]);
    }

    [Fact]
    public async Task TheTicketText_NeverReachesTheLog()
    {
        using var harness = new TicketServiceHarness();
        var issued = await harness.Tickets.IssueAsync(null, "u1", clientIp: Client).AsTask().WaitAsync(Timeout);
        var used = await harness.IssueAsync();
        var expired = await harness.IssueAsync();
        var purged = await harness.IssueAsync();
        Assert.True(harness.Tickets.TryConsume(used, null, out _));
        Assert.False(harness.Tickets.TryConsume(used, null, out _));
        Assert.False(harness.Tickets.TryConsume(issued.Ticket, IPAddress.Loopback, out _));
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(harness.Tickets.TryConsume(expired, null, out _));
        await harness.IssueAsync(); // sweeps
        // A result or grant that ends up in a log by accident must not carry the ticket either.
        Assert.DoesNotContain(issued.Ticket!, issued.ToString(), StringComparison.Ordinal);

        var names = harness.Log.Entries.Select(static e => e.EventId.Name).ToHashSet();
        Assert.Superset(new HashSet<string?> { "SessionCreated", "TicketIssued", "TicketConsumed", "TicketRejected", "TicketsPurged" }, names);
        foreach (var ticket in new[] { issued.Ticket!, used, expired, purged })
        {
            Assert.False(harness.Log.Contains(ticket), "a ticket was logged");
        }
    }
    [Fact]
    public async Task AFullTicketStore_RefusesNewTickets_UntilExpiredOnesAreSwept_AndLogsOnce()
    {
        using var harness = new TicketServiceHarness(new TicketOptions { MaxOutstanding = 3 });
        for (int i = 0; i < 3; i++)
        {
            await harness.IssueAsync();
        }

        var session = await harness.Sessions.CreateSessionAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(TicketIssueStatus.TicketLimitReached, harness.Tickets.IssueForSession(session, null).Status);
        Assert.Equal(TicketIssueStatus.TicketLimitReached, (await harness.Tickets.IssueAsync(session.SessionId).AsTask().WaitAsync(Timeout)).Status);
        Assert.Equal(TicketIssueStatus.TicketLimitReached, (await harness.Tickets.IssueForSessionAsync(session, null).AsTask().WaitAsync(Timeout)).Status);
        Assert.Equal(3, harness.Tickets.OutstandingCount);

        // Once they have expired, the next issue sweeps them out and is served.
        harness.Time.Advance(TicketOptions.DefaultTtl + TimeSpan.FromSeconds(1));
        Assert.True((await harness.Tickets.IssueForSessionAsync(session, null).AsTask().WaitAsync(Timeout)).Succeeded);
        Assert.Equal(1, harness.Tickets.OutstandingCount);
        Assert.Single(harness.Log.Entries, static e => e.EventId.Name == "TicketLimitReached");
    }
}
