using Broker.Core;
using Broker.Engines.InMemory;
using Broker.Engines;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Engines;

/// <summary>The in-memory engine against the engine specification, plus what is particular to it.</summary>
public class InMemoryEngineSpecificationTests : EngineSpecification
{
    protected override Task<IEngine> CreateEngineAsync(TimeProvider time) =>
        Task.FromResult<IEngine>(new InMemoryEngine(time));

    private InMemoryEngine Memory => (InMemoryEngine)Engine;

    [Fact]
    public async Task AnIdleChannelIsForgottenAndStartsANewEpoch()
    {
        var channel = Unique("nohistory");
        var before = (await Publish(channel)).Position;
        Time.Advance(TimeSpan.FromMinutes(6));  // past the namespace's HistoryTtl
        Memory.Sweep();

        var after = (await Publish(channel)).Position;
        Assert.Equal(1ul, after.Offset);
        Assert.NotEqual(before.Epoch, after.Epoch);
    }

    [Fact]
    public async Task AChannelWithSubscribersIsNotForgotten()
    {
        var channel = Unique("nohistory");
        await Engine.SubscribeAsync(channel, None);
        var before = (await Publish(channel)).Position;
        Time.Advance(TimeSpan.FromHours(1));
        Memory.Sweep();
        Assert.Equal(before with { Offset = 2 }, (await Publish(channel)).Position);

        await Engine.UnsubscribeAsync(channel, None);
        Time.Advance(TimeSpan.FromHours(1));
        Memory.Sweep();
        Assert.Equal(1ul, (await Publish(channel)).Position.Offset);
    }

    [Fact]
    public async Task AChannelWithKeptHistoryIsNotForgottenUntilItExpires()
    {
        var channel = Unique("chat");
        var first = (await Publish(channel)).Position;
        Time.Advance(TimeSpan.FromMinutes(4));
        Memory.Sweep();
        Assert.True((await Engine.ReadHistoryAsync(channel, HistoryQuery.After(first with { Offset = 0 }), None)).Recovered);

        Time.Advance(TimeSpan.FromMinutes(10));
        Memory.Sweep();
        Assert.Equal(0, Memory.ChannelCount);
        Assert.NotEqual(first.Epoch, (await Publish(channel)).Position.Epoch);
    }

    [Fact]
    public async Task PublishingWithoutStartingFails()
    {
        await using var engine = new InMemoryEngine(Time);
        await Assert.ThrowsAsync<InvalidOperationException>(() => engine.PublishAsync(new PublishCommand("chat:x", "message", Json.Of("1")), None).AsTask());
    }
}
