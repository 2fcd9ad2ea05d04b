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
        return new RedisSessionStore(_connection, _prefix, Lifetimes, Time);
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
        var otherNode = new RedisSessionStore(other, _prefix, Lifetimes, Time);
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
    public async Task MaxCount_BoundsTheClustersSessions_CountsAUseAsLife_AndFreesAPlaceAtExpiry()
    {
        // Two nodes (two connections) of one cluster, which may hold two sessions between them.
        var bounded = new SessionStoreOptions { MaxCount = 2 };
        await using var other = await redis.ConnectAsync();
        var a = new RedisSessionStore(_connection!, _prefix, bounded, Time);
        var b = new RedisSessionStore(other, _prefix, bounded, Time);
        var idle = bounded.IdleTimeout;

        var first = NewSession();
        await a.CreateAsync(first, SessionIdentifiers.NewSecret()).AsTask().WaitAsync(Timeout);
        Time.Advance(idle / 2);
        await b.CreateAsync(NewSession(), null).AsTask().WaitAsync(Timeout);

        // The third is refused on either node, and leaves nothing behind.
        var refused = NewSession();
        var refusedKey = SessionIdentifiers.NewSecret();
        await Assert.ThrowsAsync<SessionLimitExceededException>(() => a.CreateAsync(refused, refusedKey).AsTask()).WaitAsync(Timeout);
        await Assert.ThrowsAsync<SessionLimitExceededException>(() => b.CreateAsync(NewSession(), null).AsTask()).WaitAsync(Timeout);
        Assert.Null(await b.FindByCookieKeyAsync(refusedKey).AsTask().WaitAsync(Timeout));
        Assert.DoesNotContain(refused.SessionId, await redis.DumpAsync(_prefix).WaitAsync(Timeout), StringComparison.Ordinal);

        // Used now, the first lives (and counts) past its first expiry; the same connection orders the use's update
        // before the next create.
        AssertSame(first, await b.FindByIdAsync(first.SessionId).AsTask().WaitAsync(Timeout));
        Time.Advance(idle * 3 / 4);
        await Assert.ThrowsAsync<SessionLimitExceededException>(() => b.CreateAsync(NewSession(), null).AsTask()).WaitAsync(Timeout);

        // Both expire unused: their places are free again.
        Time.Advance(idle / 4);
        await b.CreateAsync(NewSession(), null).AsTask().WaitAsync(Timeout);
        await a.CreateAsync(NewSession(), SessionIdentifiers.NewSecret()).AsTask().WaitAsync(Timeout);
    }

    [Fact]
    public async Task AnotherPrefix_IsAnotherCluster()
    {
        var session = NewSession();
        await Store.CreateAsync(session, null).AsTask().WaitAsync(Timeout);

        var elsewhere = new RedisSessionStore(_connection!, RedisServer.NewPrefix());
        Assert.Null(await elsewhere.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task BothKeys_CarryTheIdleTimeoutAsTtl_CutShortAtTheLifetime()
    {
        var session = NewSession();
        var key = SessionIdentifiers.NewSecret();
        await Store.CreateAsync(session, key).AsTask().WaitAsync(Timeout);
        var db = _connection!.GetDatabase();
        var sessionKey = $"{_prefix}:sessions:id:{session.SessionId}";
        var cookieKey = $"{_prefix}:sessions:cookie:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))}";

        foreach (var name in new[] { sessionKey, cookieKey })
        {
            var ttl = await db.KeyTimeToLiveAsync(name).WaitAsync(Timeout);
            Assert.True(ttl > TimeSpan.Zero && ttl <= Lifetimes.IdleTimeout, $"{name}: {ttl}");
        }

        // Five minutes before the lifetime ends, a use sets both TTLs to those five minutes, not the idle timeout.
        var step = Lifetimes.IdleTimeout / 2;
        var elapsed = TimeSpan.Zero;
        while (elapsed + step <= Lifetimes.Lifetime - TimeSpan.FromMinutes(5))
        {
            Time.Advance(step);
            elapsed += step;
            Assert.True(await Store.TouchAsync(session.SessionId).AsTask().WaitAsync(Timeout));
        }

        Time.Advance(Lifetimes.Lifetime - TimeSpan.FromMinutes(5) - elapsed);
        Assert.NotNull(await Store.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));
        foreach (var name in new[] { sessionKey, cookieKey })
        {
            var ttl = await db.KeyTimeToLiveAsync(name).WaitAsync(Timeout);
            Assert.True(ttl > TimeSpan.Zero && ttl <= TimeSpan.FromMinutes(5), $"{name}: {ttl}");
        }
    }

    [Fact]
    public async Task RedisItself_RemovesAnIdleSession_WithNoSweep()
    {
        // Real time and a short idle timeout: the keys must leave Redis on their own (what bounds the store).
        var store = new RedisSessionStore(_connection!, _prefix, new SessionStoreOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) }, TimeProvider.System);
        var session = new BrokerSession(SessionIdentifiers.NewSessionId(), null, DateTimeOffset.UtcNow, BrokerSession.NoClaims);
        await store.CreateAsync(session, SessionIdentifiers.NewSecret()).AsTask().WaitAsync(Timeout);
        Assert.Contains(session.SessionId, await redis.DumpAsync(_prefix).WaitAsync(Timeout), StringComparison.Ordinal);

        // Redis gives no signal when a key expires (keyspace notifications are off by default), so poll, bounded.
        var deadline = DateTime.UtcNow + Timeout;
        string dump;
        while ((dump = await redis.DumpAsync(_prefix).WaitAsync(Timeout)).Contains(":sessions:", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.DoesNotContain(":sessions:", dump, StringComparison.Ordinal);
    }
}
