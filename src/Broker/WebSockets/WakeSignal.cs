using System.Threading.Channels;

namespace Broker.WebSockets;

/// <summary>
/// Wakes a connection's writer loop. Many producers (fan-out on publisher threads, the reader loop,
/// timers) signal; one loop waits. A flag collapses a burst of signals into one wake-up, so under load a
/// delivery costs one read of the flag; the single-reader unbounded channel waits without allocating
/// (it reuses one awaiter for its single reader).
/// </summary>
internal sealed class WakeSignal
{
    private readonly Channel<bool> _channel = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = false,
        AllowSynchronousContinuations = false,  // never run the writer loop on a publisher's thread
    });

    private int _signaled;

    /// <summary>Wakes the loop (if it is not already due to wake).</summary>
    public void Signal()
    {
        // A plain read first: under load the flag is already set, and an interlocked exchange on a line
        // the writer's core also writes would cost a cache-line transfer per delivery. A stale 1 cannot
        // lose a wake-up: the loop clears the flag with a full fence before it reads the queues, and every
        // producer queues its message with a full fence (a lock or an interlocked enqueue) before this
        // read, so either the loop sees the message or the producer sees the cleared flag.
        if (Volatile.Read(ref _signaled) == 0 && Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _channel.Writer.TryWrite(true);
        }
    }

    /// <summary>
    /// Waits for a signal, then re-arms: a signal that arrives while the loop works wakes it again.
    /// False once <see cref="Stop"/> was called.
    /// </summary>
    public async ValueTask<bool> WaitAsync()
    {
        if (!await _channel.Reader.WaitToReadAsync())
        {
            return false;
        }

        _channel.Reader.TryRead(out _);
        Interlocked.Exchange(ref _signaled, 0);  // a full fence: see Signal
        return true;
    }

    /// <summary>Ends the waits: the loop's next wait returns false once it has drained.</summary>
    public void Stop() => _channel.Writer.TryComplete();
}
