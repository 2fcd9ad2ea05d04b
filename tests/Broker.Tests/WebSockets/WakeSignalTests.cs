using Broker.WebSockets.Internal;
using Broker.WebSockets;

namespace Broker.Tests.WebSockets;

public class WakeSignalTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ASignalBeforeTheWaitIsKeptAndABurstIsOneWakeUp()
    {
        var signal = new WakeSignal();
        signal.Signal();
        signal.Signal();
        Assert.True(await signal.WaitAsync().AsTask().WaitAsync(Timeout));

        var next = signal.WaitAsync().AsTask();
        Assert.False(next.IsCompleted);  // the burst was one wake-up
        signal.Signal();
        Assert.True(await next.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ASignalDuringTheWorkWakesTheNextWait()
    {
        var signal = new WakeSignal();
        var first = signal.WaitAsync().AsTask();
        signal.Signal();
        Assert.True(await first.WaitAsync(Timeout));

        signal.Signal();  // while the loop "works"
        Assert.True(await signal.WaitAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task StopEndsAWaitAndEveryLaterWait()
    {
        var signal = new WakeSignal();
        var wait = signal.WaitAsync().AsTask();
        signal.Stop();
        Assert.False(await wait.WaitAsync(Timeout));
        Assert.False(await signal.WaitAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task ManySignallersNeverLoseTheLastWakeUp()
    {
        var signal = new WakeSignal();
        long produced = 0;
        long seen = 0;
        var loop = Task.Run(async () =>
        {
            while (await signal.WaitAsync())
            {
                Volatile.Write(ref seen, Interlocked.Read(ref produced));
            }
        });
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                Interlocked.Increment(ref produced);
                signal.Signal();
            }
        }))).WaitAsync(Timeout);

        // Every increment was followed by a signal, so the loop must come to see the final count.
        long total = Interlocked.Read(ref produced);
        using var deadline = new CancellationTokenSource(Timeout);
        while (Volatile.Read(ref seen) != total)
        {
            await Task.Yield();
            deadline.Token.ThrowIfCancellationRequested();
        }

        signal.Stop();
        await loop.WaitAsync(Timeout);
    }
}
