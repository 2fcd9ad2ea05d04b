using Broker.Engines;

namespace Broker.Tests.Engines.Redis;

/// <summary>The Redis engine against the engine specification, unchanged, on the tests' own redis-server.</summary>
[Collection(RedisCollection.Name)]
public class RedisEngineSpecificationTests(RedisServerFixture redis) : EngineSpecification
{
    protected override Task<IEngine> CreateEngineAsync(TimeProvider time) =>
        Task.FromResult<IEngine>(redis.CreateEngine(time));
}
