using Broker.Sessions.Redis;
using Broker.Sessions;
using StackExchange.Redis;

namespace Broker.FunctionalTests.Sessions;

/// <summary>
/// The Redis ticket store against the ticket store specification: two nodes, each with its own connection to a
/// private redis-server, plus what is particular to it.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisTicketStoreTests(RedisServer redis) : TicketStoreSpecification
{
    private readonly string _prefix = RedisServer.NewPrefix();
    private ConnectionMultiplexer? _a;
    private ConnectionMultiplexer? _b;

    protected override async Task<(ITicketStore A, ITicketStore B)> CreateStoresAsync()
    {
        _a = await redis.ConnectAsync();
        _b = await redis.ConnectAsync();
        return (new RedisTicketStore(_a, _prefix), new RedisTicketStore(_b, _prefix));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var connection in new[] { _a, _b })
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TheTicket_IsNeverStoredInClear_AndItsKeyExpiresWithIt()
    {
        var ticket = await IssueOnAAsync(NewSession());

        var dump = await redis.DumpAsync(_prefix).WaitAsync(Timeout);
        Assert.DoesNotContain(ticket, dump, StringComparison.Ordinal);
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ticket)));
        RedisKey key = $"{_prefix}:tickets:{digest}";
        var ttl = await redis.Connection.GetDatabase().KeyTimeToLiveAsync(key).WaitAsync(Timeout);

        // The key lives for the ticket's TTL plus the store's few seconds of grace, then Redis drops it by itself.
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, NodeA.DefaultTtl - TimeSpan.FromSeconds(5), NodeA.DefaultTtl + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void CountIsNull_AndPurgeHasNothingToDo()
    {
        Assert.Null(StoreA.Count);
        Assert.Equal(-1, NodeA.OutstandingCount);
        Assert.Equal(0, NodeA.PurgeExpired());
    }
}
