using Broker.Sessions;

namespace Broker.FunctionalTests.Sessions;

/// <summary>The in-memory store against the session store specification, plus what is particular to it.</summary>
public sealed class InMemorySessionStoreTests : SessionStoreSpecification
{
    protected override Task<ISessionStore> CreateStoreAsync() => Task.FromResult<ISessionStore>(new InMemorySessionStore());

    [Fact]
    public async Task Count_CountsTheSessions_AndAFailedCreateAddsNone()
    {
        var session = NewSession();
        await Store.CreateAsync(session, "key1").AsTask().WaitAsync(Timeout);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.CreateAsync(NewSession(), "key1").AsTask()).WaitAsync(Timeout);

        Assert.Equal(1, Store.Count);
        Assert.Equal(1, ((InMemorySessionStore)Store).Count);
    }
}
