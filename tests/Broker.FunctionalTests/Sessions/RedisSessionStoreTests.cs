using Broker.Sessions.Redis;
using Broker.Sessions;
using StackExchange.Redis;

namespace Broker.FunctionalTests.Sessions;

/// <summary>The Redis store against the session store specification, on a private redis-server, plus what is particular to it.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSessionStoreTests(RedisServer redis) : SessionStoreSpecification
{
    private readonly string _prefix = RedisServer.NewPrefix();
    private ConnectionMultiplexer? _connection;

    protected override async Task<ISessionStore> CreateStoreAsync()
    {
        _connection = await redis.ConnectAsync();
        return new RedisSessionStore(_connection, _prefix);
    }

    public override async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task ASecondNode_SeesTheSessionsAndBindsOfTheFirst()
    {
        await using var other = await redis.ConnectAsync();
        var otherNode = new RedisSessionStore(other, _prefix);
        var session = NewSession();
        var key = SessionIdentifiers.NewSecret();

        await Store.CreateAsync(session, key).AsTask().WaitAsync(Timeout);
        AssertSame(session, await otherNode.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));

        await otherNode.BindUserAsync(session.SessionId, "bob").AsTask().WaitAsync(Timeout);
        AssertSame(session with { UserId = "bob" }, await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task TheCookieKey_IsNeverStoredInClear_OnlyItsDigest()
    {
        var session = NewSession();
        var key = SessionIdentifiers.NewSecret();
        await Store.CreateAsync(session, key).AsTask().WaitAsync(Timeout);

        var dump = await redis.DumpAsync(_prefix).WaitAsync(Timeout);

        Assert.Contains(session.SessionId, dump, StringComparison.Ordinal);
        Assert.DoesNotContain(key, dump, StringComparison.Ordinal);
        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        Assert.Contains($"{_prefix}:sessions:cookie:{digest}", dump, StringComparison.Ordinal);
    }

    [Fact]
    public void Count_IsNull_TheSessionsAreTheClustersNotThisNodes() => Assert.Null(Store.Count);

    [Fact]
    public async Task AnotherPrefix_IsAnotherCluster()
    {
        var session = NewSession();
        await Store.CreateAsync(session, null).AsTask().WaitAsync(Timeout);

        var elsewhere = new RedisSessionStore(_connection!, RedisServer.NewPrefix());
        Assert.Null(await elsewhere.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
    }
}
