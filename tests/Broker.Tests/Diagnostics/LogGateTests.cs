using Broker.Diagnostics;
using Broker.Testing;

namespace Broker.Tests.Diagnostics;

public class LogGateTests
{
    [Fact]
    public void TheFirstEventPasses_ThenOnePerInterval_WithTheCountSinceTheLast()
    {
        var time = new ManualTimeProvider();
        var gate = new LogGate(time, TimeSpan.FromMinutes(1));

        Assert.True(gate.TryPass(out var first));
        Assert.Equal(1, first);
        for (int i = 0; i < 99; i++)
        {
            Assert.False(gate.TryPass(out _));
        }

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(gate.TryPass(out var next));
        Assert.Equal(100, next);  // the 99 held back and this one
    }

    [Fact]
    public async Task RacingEvents_PassOnce()
    {
        var gate = new LogGate(new ManualTimeProvider(), TimeSpan.FromMinutes(1));
        int passed = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                if (gate.TryPass(out long _))
                {
                    Interlocked.Increment(ref passed);
                }
            }
        }))).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(1, passed);
    }
}
