using Broker.Sessions;
using Broker.Testing;

namespace Broker.FunctionalTests.Sessions;

/// <summary>
/// The contract of <see cref="ISessionStore"/> (its doc comment), as tests. Every store derives a class from
/// this one and passes all of it: <see cref="InMemorySessionStore"/> and the cluster's Redis store.
/// </summary>
public abstract class SessionStoreSpecification : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = BrokerServer.DefaultTimeout;

    // Millisecond precision: what a store outside the process has to keep, at the least.
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);

    /// <summary>The lifetimes every store of the specification runs with: the defaults, so the contract is tested as shipped.</summary>
    protected static readonly SessionStoreOptions Lifetimes = new();

    protected ISessionStore Store { get; private set; } = null!;

    /// <summary>The stores' clock: it starts when the test sessions were made and moves only when a test says.</summary>
    protected ManualTimeProvider Time { get; } = new(Created);

    /// <summary>Creates a fresh, empty store with <see cref="Lifetimes"/> on <see cref="Time"/>.</summary>
    protected abstract Task<ISessionStore> CreateStoreAsync();

    public virtual async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected static BrokerSession NewSession(string? userId = null, IReadOnlyDictionary<string, string>? claims = null) =>
        new(SessionIdentifiers.NewSessionId(), userId, Created, claims ?? BrokerSession.NoClaims);

    protected static void AssertSame(BrokerSession expected, BrokerSession? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.SessionId, actual.SessionId);
        Assert.Equal(expected.UserId, actual.UserId);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.Claims.OrderBy(static c => c.Key, StringComparer.Ordinal), actual.Claims.OrderBy(static c => c.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task ASession_IsFoundByIdAndByCookieKey_AndTheKeyIsNotTheId()
    {
        var session = NewSession(claims: new Dictionary<string, string> { ["plan"] = "pro", ["tenant"] = "7" });
        var key = SessionIdentifiers.NewSecret();

        await Store.CreateAsync(session, key).AsTask().WaitAsync(Timeout);

        AssertSame(session, await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
        AssertSame(session, await Store.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByCookieKeyAsync(session.SessionId).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByIdAsync(key).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ASessionWithoutCookie_IsFoundByIdOnly_WithItsUser()
    {
        var session = NewSession(userId: "alice@example.com");

        await Store.CreateAsync(session, cookieKey: null).AsTask().WaitAsync(Timeout);

        var found = await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout);
        AssertSame(session, found);
        Assert.True(found!.IsAuthenticated);
        Assert.Empty(found.Claims);
    }

    [Fact]
    public async Task UnknownIdsAndKeys_GiveNull()
    {
        Assert.Null(await Store.FindByIdAsync(SessionIdentifiers.NewSessionId()).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByCookieKeyAsync(SessionIdentifiers.NewSecret()).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.BindUserAsync(SessionIdentifiers.NewSessionId(), "u1").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ADuplicateIdOrKey_IsRefused_AndLeavesNothingBehind()
    {
        var first = NewSession();
        var key = SessionIdentifiers.NewSecret();
        await Store.CreateAsync(first, key).AsTask().WaitAsync(Timeout);

        var otherKey = SessionIdentifiers.NewSecret();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CreateAsync(first with { UserId = "mallory" }, otherKey).AsTask()).WaitAsync(Timeout);
        var second = NewSession();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CreateAsync(second, key).AsTask()).WaitAsync(Timeout);

        AssertSame(first, await Store.FindByIdAsync(first.SessionId).AsTask().WaitAsync(Timeout));
        AssertSame(first, await Store.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByIdAsync(second.SessionId).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByCookieKeyAsync(otherKey).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task BindUser_UpdatesBothLookups_AndKeepsTheRest()
    {
        var session = NewSession(claims: new Dictionary<string, string> { ["plan"] = "pro" });
        var key = SessionIdentifiers.NewSecret();
        await Store.CreateAsync(session, key).AsTask().WaitAsync(Timeout);

        var bound = await Store.BindUserAsync(session.SessionId, "u1").AsTask().WaitAsync(Timeout);

        AssertSame(session with { UserId = "u1" }, bound);
        AssertSame(session with { UserId = "u1" }, await Store.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));
        AssertSame(session with { UserId = "u2" }, await Store.BindUserAsync(session.SessionId, "u2").AsTask().WaitAsync(Timeout));
        AssertSame(session with { UserId = "u2" }, await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ConcurrentBinds_LeaveOneOfTheUsers_NeverAMix()
    {
        var session = NewSession();
        await Store.CreateAsync(session, null).AsTask().WaitAsync(Timeout);

        var users = Enumerable.Range(0, 50).Select(static i => $"u{i}").ToList();
        var results = await Task.WhenAll(users.Select(user => Task.Run(() => Store.BindUserAsync(session.SessionId, user).AsTask()))).WaitAsync(Timeout);

        // Each bind returns the record it wrote, whole.
        for (var i = 0; i < users.Count; i++)
        {
            AssertSame(session with { UserId = users[i] }, results[i]);
        }

        Assert.Contains((await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout))?.UserId, users);
    }

    [Fact]
    public async Task ASessionUnusedForTheIdleTimeout_IsGone_ByIdAndByCookieKey()
    {
        var session = NewSession();
        var key = SessionIdentifiers.NewSecret();
        await Store.CreateAsync(session, key).AsTask().WaitAsync(Timeout);

        Time.Advance(Lifetimes.IdleTimeout - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await Store.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));
        // That lookup was a use: the idle timeout starts again from it.
        Time.Advance(Lifetimes.IdleTimeout - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));

        Time.Advance(Lifetimes.IdleTimeout);
        Assert.Null(await Store.FindByCookieKeyAsync(key).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
        Assert.False(await Store.TouchAsync(session.SessionId).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.BindUserAsync(session.SessionId, "u1").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ASessionInUse_EndsAtItsLifetime_AndNotBefore()
    {
        var session = NewSession();
        await Store.CreateAsync(session, null).AsTask().WaitAsync(Timeout);

        // Touched every half idle timeout, as the sweep does for a connected session: alive until the lifetime.
        var step = Lifetimes.IdleTimeout / 2;
        var elapsed = TimeSpan.Zero;
        while (elapsed + step < Lifetimes.Lifetime)
        {
            Time.Advance(step);
            elapsed += step;
            Assert.True(await Store.TouchAsync(session.SessionId).AsTask().WaitAsync(Timeout), $"gone after {elapsed}");
        }

        Time.Advance(Lifetimes.Lifetime - elapsed);
        Assert.False(await Store.TouchAsync(session.SessionId).AsTask().WaitAsync(Timeout));
        Assert.Null(await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Touch_OfAnUnknownSession_IsFalse() =>
        Assert.False(await Store.TouchAsync(SessionIdentifiers.NewSessionId()).AsTask().WaitAsync(Timeout));

    [Fact]
    public async Task BindingAUser_IsAUse()
    {
        var session = NewSession();
        await Store.CreateAsync(session, null).AsTask().WaitAsync(Timeout);

        Time.Advance(Lifetimes.IdleTimeout - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await Store.BindUserAsync(session.SessionId, "u1").AsTask().WaitAsync(Timeout));
        Time.Advance(Lifetimes.IdleTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal("u1", (await Store.FindByIdAsync(session.SessionId).AsTask().WaitAsync(Timeout))?.UserId);
    }
}
