using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

public sealed class InMemorySessionStoreTests
{
    private static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    [Fact]
    public async Task ASession_IsFoundByIdAndByCookieKey_AndTheKeyIsNotTheId()
    {
        var store = new InMemorySessionStore();
        var session = new BrokerSession("s1", null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims);

        await store.CreateAsync(session, "key1").AsTask().WaitAsync(Timeout);

        Assert.Same(session, await store.FindByIdAsync("s1").AsTask().WaitAsync(Timeout));
        Assert.Same(session, await store.FindByCookieKeyAsync("key1").AsTask().WaitAsync(Timeout));
        Assert.Null(await store.FindByCookieKeyAsync("s1").AsTask().WaitAsync(Timeout));
        Assert.Null(await store.FindByIdAsync("key1").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ADuplicateIdOrKey_IsRefused_AndLeavesNothingBehind()
    {
        var store = new InMemorySessionStore();
        await store.CreateAsync(new BrokerSession("s1", null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims), "key1").AsTask().WaitAsync(Timeout);

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.CreateAsync(new BrokerSession("s1", null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims), "key2").AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.CreateAsync(new BrokerSession("s2", null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims), "key1").AsTask());

        Assert.Equal(1, store.Count);
        Assert.Null(await store.FindByIdAsync("s2").AsTask().WaitAsync(Timeout));
        Assert.Null(await store.FindByCookieKeyAsync("key2").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task BindUser_UpdatesBothLookups_AndUnknownSessionsGiveNull()
    {
        var store = new InMemorySessionStore();
        await store.CreateAsync(new BrokerSession("s1", null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims), "key1").AsTask().WaitAsync(Timeout);

        var bound = await store.BindUserAsync("s1", "u1").AsTask().WaitAsync(Timeout);

        Assert.Equal("u1", bound?.UserId);
        Assert.True(bound?.IsAuthenticated);
        Assert.Equal("u1", (await store.FindByCookieKeyAsync("key1").AsTask().WaitAsync(Timeout))?.UserId);
        Assert.Null(await store.BindUserAsync("nope", "u1").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ConcurrentBinds_LeaveOneOfTheUsers_NeverAMix()
    {
        var store = new InMemorySessionStore();
        await store.CreateAsync(new BrokerSession("s1", null, DateTimeOffset.UnixEpoch, BrokerSession.NoClaims), null).AsTask().WaitAsync(Timeout);

        var users = Enumerable.Range(0, 50).Select(static i => $"u{i}").ToList();
        await Task.WhenAll(users.Select(user => Task.Run(() => store.BindUserAsync("s1", user).AsTask()))).WaitAsync(Timeout);

        Assert.Contains((await store.FindByIdAsync("s1").AsTask().WaitAsync(Timeout))?.UserId, users);
    }
}
