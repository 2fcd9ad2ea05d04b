using Broker.Lifecycle;

namespace Broker.Tests.Lifecycle;

public class DrainStateTests
{
    [Fact]
    public async Task OnlyOneOfManyConcurrentCallsBeginsTheDrain()
    {
        // SIGTERM's thread and the host's stop both begin the drain; exactly one may log it.
        for (int round = 0; round < 50; round++)
        {
            using var drain = new DrainState();
            int callbacks = 0;
            drain.Token.Register(() => Interlocked.Increment(ref callbacks));
            using var start = new Barrier(4);
            var calls = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                bool first = drain.BeginDrain();
                return (First: first, DrainingAfter: drain.IsDraining);
            }));

            var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Single(results, r => r.First);
            // Every caller, not only the first, returns with the drain begun: a WhenIdleAsync after it must see it.
            Assert.All(results, r => Assert.True(r.DrainingAfter));
            Assert.Equal(1, callbacks);
            Assert.True(drain.IsDraining);
        }
    }

    [Fact]
    public void WhenIdleCompletesWithTheLastRequestOut()
    {
        using var drain = new DrainState();
        drain.Enter();
        Assert.True(drain.BeginDrain());
        var idle = drain.WhenIdleAsync();
        Assert.False(idle.IsCompleted);

        drain.Exit();

        Assert.True(idle.IsCompletedSuccessfully);
        Assert.False(drain.BeginDrain());
    }
}
