using Broker.Engines;

namespace Broker.Tests.Engines.Redis;

/// <summary>The Redis engine against the engine specification, unchanged, on the tests' own redis-server.</summary>
[Collection(RedisCollection.Name)]
public class RedisEngineSpecificationTests(RedisServerFixture redis) : EngineSpecification
{
    protected override Task<IEngine> CreateEngineAsync(TimeProvider time) =>
        Task.FromResult<IEngine>(redis.CreateEngine(time));

    /// <summary>
    /// Until the first liveness probe came back: on a loaded machine (test assemblies run side by side) the
    /// first probe can be late, and a test that starts before it meets "unavailable", which is not what it tests.
    /// </summary>
    protected override async Task WhenReadyAsync(IEngine engine)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        while (!engine.IsHealthy)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(deadline) < TimeSpan.FromSeconds(30), "the Redis engine did not become healthy within 30 s");
            await Task.Delay(20);  // StackExchange.Redis offers no "probe came back" signal to await
        }
    }
}
