using Broker.Sessions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Broker.FunctionalTests.Sessions;

/// <summary>
/// The contract of <see cref="ITicketStore"/> (its doc comment), as tests, with <see cref="TicketService"/> on
/// top as the broker uses it. Two "nodes" share one store: two instances over one backing where the store is
/// shared (Redis), one instance where it is the process's (in memory). Every store passes all of it.
/// </summary>
public abstract class TicketStoreSpecification : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.10");
    private static readonly IPAddress Other = IPAddress.Parse("198.51.100.7");

    private readonly ILoggerFactory _loggers = LoggerFactory.Create(static builder => builder.SetMinimumLevel(LogLevel.Trace));

    protected ManualTimeProvider Time { get; } = new();

    /// <summary>The store as node A sees it.</summary>
    protected ITicketStore StoreA { get; private set; } = null!;

    /// <summary>The store as node B sees it.</summary>
    protected ITicketStore StoreB { get; private set; } = null!;

    protected TicketService NodeA { get; private set; } = null!;

    protected TicketService NodeB { get; private set; } = null!;

    /// <summary>Creates the store as two nodes see it.</summary>
    protected abstract Task<(ITicketStore A, ITicketStore B)> CreateStoresAsync();

    public virtual async Task InitializeAsync()
    {
        (StoreA, StoreB) = await CreateStoresAsync();
        NodeA = CreateService(StoreA);
        NodeB = CreateService(StoreB);
    }

    public virtual Task DisposeAsync()
    {
        _loggers.Dispose();
        return Task.CompletedTask;
    }

    protected static BrokerSession NewSession(string? userId = "alice") =>
        new(SessionIdentifiers.NewSessionId(), userId, DateTimeOffset.UnixEpoch, new Dictionary<string, string> { ["plan"] = "pro" });

    protected async Task<string> IssueOnAAsync(BrokerSession session, IPAddress? boundTo = null)
    {
        var result = await NodeA.IssueForSessionAsync(session, boundTo).AsTask().WaitAsync(Timeout);
        Assert.True(result.Succeeded, result.ToString());
        return result.Ticket;
    }

    [Fact]
    public async Task ATicketIssuedOnA_IsConsumedOnB_WithItsGrant_AndOnlyOnce()
    {
        var session = NewSession();
        var ticket = await IssueOnAAsync(session, Client);

        var grant = await NodeB.TryConsumeAsync(ticket, Client).AsTask().WaitAsync(Timeout);

        Assert.NotNull(grant);
        Assert.Equal(session.SessionId, grant.SessionId);
        Assert.Equal("alice", grant.UserId);
        Assert.Equal("pro", grant.Claims["plan"]);
        Assert.Equal(Time.GetUtcNow() + NodeA.DefaultTtl, grant.ExpiresAt);
        Assert.Null(await NodeB.TryConsumeAsync(ticket, Client).AsTask().WaitAsync(Timeout));
        Assert.False(NodeA.TryConsume(ticket, Client, out _));
    }

    [Fact]
    public async Task AHundredParallelConsumesOfOneTicketOnTwoNodes_ExactlyOneSucceeds()
    {
        for (var round = 0; round < 10; round++)
        {
            var ticket = await IssueOnAAsync(NewSession());
            // All 100 callers wait at the gate, then race for the same ticket, half on each node. Through the
            // asynchronous API: the synchronous one blocks a pool thread per call on a remote store, and 50 of
            // them starve the pool that completes the Redis replies (measured: 15 s and no end, against 0.3 s).
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var consumers = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
            {
                await gate.Task;
                return await (i % 2 == 0 ? NodeA : NodeB).TryConsumeAsync(ticket, Client) is not null;
            })).ToArray();

            gate.SetResult();
            var results = await Task.WhenAll(consumers).WaitAsync(Timeout);

            Assert.Equal(1, results.Count(static won => won));
        }
    }

    [Fact]
    public async Task TheSynchronousApi_ConsumesOnce_AcrossNodes()
    {
        var ticket = await IssueOnAAsync(NewSession());

        var sync = NodeB.IssueForSession(NewSession(), Client);

        Assert.True(NodeB.TryConsume(ticket, Client, out var grant));
        Assert.Equal("alice", grant.UserId);
        Assert.False(NodeA.TryConsume(ticket, Client, out _));
        Assert.True(NodeA.TryConsume(sync.Ticket, Client, out _));
        Assert.False(NodeB.TryConsume(sync.Ticket, Client, out _));
    }

    [Fact]
    public async Task AnExpiredTicket_IsRefused_AndBurnt()
    {
        var ticket = await IssueOnAAsync(NewSession());

        Time.Advance(NodeA.DefaultTtl);  // expired means now >= expiresAt

        Assert.Null(await NodeB.TryConsumeAsync(ticket, Client).AsTask().WaitAsync(Timeout));
        // Burnt by that presentation: the store no longer holds it, on either node.
        Assert.Null(await StoreA.TryTakeAsync(ticket).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ATicketPresentedFromTheWrongAddress_IsRefused_AndBurnt()
    {
        var ticket = await IssueOnAAsync(NewSession(), Client);

        Assert.Null(await NodeB.TryConsumeAsync(ticket, Other).AsTask().WaitAsync(Timeout));
        Assert.Null(await NodeA.TryConsumeAsync(ticket, Client).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task TheIPv4MappedSpellingOfTheBoundAddress_Matches_OnTheOtherNode()
    {
        var ticket = await IssueOnAAsync(NewSession(), Client.MapToIPv6());

        Assert.NotNull(await NodeB.TryConsumeAsync(ticket, Client).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ATicketForAnAnonymousSessionWithoutClaims_RoundTrips()
    {
        var session = new BrokerSession(SessionIdentifiers.NewSessionId(), null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims);
        var ticket = await IssueOnAAsync(session);

        var grant = await NodeB.TryConsumeAsync(ticket, clientIp: null).AsTask().WaitAsync(Timeout);

        Assert.NotNull(grant);
        Assert.Null(grant.UserId);
        Assert.Empty(grant.Claims);
    }

    [Fact]
    public async Task TryAdd_RefusesATextInUse_AndTryTakeOfAnUnknownTextIsNull()
    {
        var entry = new TicketEntry(new TicketGrant("s1", null, BrokerSession.NoClaims, Time.GetUtcNow().AddSeconds(30)), null);
        var ticket = SessionIdentifiers.NewSecret();

        Assert.True(await StoreA.TryAddAsync(ticket, entry, TimeSpan.FromSeconds(30)).AsTask().WaitAsync(Timeout));
        Assert.False(await StoreB.TryAddAsync(ticket, entry, TimeSpan.FromSeconds(30)).AsTask().WaitAsync(Timeout));
        Assert.False(StoreB.TryAdd(ticket, entry, TimeSpan.FromSeconds(30)));
        Assert.Equal("s1", StoreB.TryTake(ticket)?.Grant.SessionId);
        Assert.Null(StoreA.TryTake(ticket));
        Assert.Null(await StoreA.TryTakeAsync(SessionIdentifiers.NewSecret()).AsTask().WaitAsync(Timeout));
    }

    private TicketService CreateService(ITicketStore tickets)
    {
        // Each node has its own session store: these tests issue for sessions in hand, which never touch it.
        var store = new InMemorySessionStore();
        var resolver = new SessionResolver(store, new EphemeralDataProtectionProvider(), Time, _loggers.CreateLogger<SessionResolver>());
        return new TicketService(store, tickets, resolver, Options.Create(new BrokerSessionOptions()), Time, _loggers.CreateLogger<TicketService>());
    }
}
