using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

/// <summary>The in-memory ticket store against the ticket store specification (both nodes share the one table), plus what is particular to it.</summary>
public sealed class InMemoryTicketStoreTests : TicketStoreSpecification
{
    protected override Task<(ITicketStore A, ITicketStore B)> CreateStoresAsync()
    {
        var store = new InMemoryTicketStore();
        return Task.FromResult<(ITicketStore, ITicketStore)>((store, store));
    }

    [Fact]
    public async Task PurgeExpired_RemovesOnlyExpiredTickets_AndCountFollows()
    {
        await IssueOnAAsync(NewSession());
        Time.Advance(TimeSpan.FromSeconds(20));
        await IssueOnAAsync(NewSession());
        Assert.Equal(2, StoreA.Count);

        Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(1, StoreA.PurgeExpired(Time.GetUtcNow()));
        Assert.Equal(1, StoreA.Count);
        Assert.Equal(1, NodeA.OutstandingCount);
    }
}
