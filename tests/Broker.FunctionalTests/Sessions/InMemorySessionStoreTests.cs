using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

/// <summary>The in-memory store against the session store specification, plus what is particular to it.</summary>
public sealed class InMemorySessionStoreTests : SessionStoreSpecification
{
    protected override Task<ISessionStore> CreateStoreAsync() => Task.FromResult<ISessionStore>(new InMemorySessionStore(Lifetimes, Time));

    [Fact]
    public async Task Count_CountsTheSessions_AndAFailedCreateAddsNone()
    {
        var session = NewSession();
        await Store.CreateAsync(session, "key1").AsTask().WaitAsync(Timeout);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CreateAsync(NewSession(), "key1").AsTask()).WaitAsync(Timeout);

        Assert.Equal(1, Store.Count);
        Assert.Equal(1, ((InMemorySessionStore)Store).Count);
    }

    [Fact]
    public async Task AFullStore_RefusesANewSession_UntilAnExpiredOneMakesRoom()
    {
        var store = new InMemorySessionStore(new SessionStoreOptions { MaxCount = 3 }, Time);
        var first = NewSession();
        await store.CreateAsync(first, "k0").AsTask().WaitAsync(Timeout);
        Time.Advance(TimeSpan.FromMinutes(1));
        await store.CreateAsync(NewSession(), "k1").AsTask().WaitAsync(Timeout);
        await store.CreateAsync(NewSession(), null).AsTask().WaitAsync(Timeout);

        await Assert.ThrowsAsync<SessionLimitExceededException>(() => store.CreateAsync(NewSession(), "k3").AsTask()).WaitAsync(Timeout);
        Assert.Equal(3, store.Count);
        Assert.Null(await store.FindByCookieKeyAsync("k3").AsTask().WaitAsync(Timeout));

        // The first goes idle a minute before the others: the next create sweeps it out and takes its place.
        Time.Advance(new SessionStoreOptions().IdleTimeout - TimeSpan.FromSeconds(30));
        var fourth = NewSession();
        await store.CreateAsync(fourth, "k3").AsTask().WaitAsync(Timeout);
        Assert.Equal(3, store.Count);
        Assert.Null(await store.FindByIdAsync(first.SessionId).AsTask().WaitAsync(Timeout));
        AssertSame(fourth, await store.FindByCookieKeyAsync("k3").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task PurgeExpired_RemovesOnlyTheExpired_AndTheirCookieKeys()
    {
        var old = NewSession();
        await Store.CreateAsync(old, "old").AsTask().WaitAsync(Timeout);
        Time.Advance(Lifetimes.IdleTimeout / 2);
        var fresh = NewSession();
        await Store.CreateAsync(fresh, "fresh").AsTask().WaitAsync(Timeout);
        Time.Advance(Lifetimes.IdleTimeout / 2);

        Assert.Equal(1, await Store.PurgeExpiredAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(1, Store.Count);
        Assert.Null(await Store.FindByCookieKeyAsync("old").AsTask().WaitAsync(Timeout));
        Assert.NotNull(await Store.FindByCookieKeyAsync("fresh").AsTask().WaitAsync(Timeout));
    }
}
