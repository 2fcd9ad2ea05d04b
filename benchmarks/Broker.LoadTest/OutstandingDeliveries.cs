namespace Broker.LoadTest;

/// <summary>
/// The bound on deliveries in the pipe, the same for every server: the publisher sends a publication only when the
/// deliveries expected once it is sent, less those that arrived (or that the server reported dropped), stay within
/// the limit (<c>--outstanding</c>). The receive loops report arrivals; the publisher waits here, woken by the
/// arrival that makes room, with no polling.
/// </summary>
internal sealed class OutstandingDeliveries
{
    private readonly long _limit;
    private readonly TimeSpan _stall;
    private long _arrived;
    private long _target;
    private TaskCompletionSource? _waiter;

    /// <summary>A bound of <paramref name="limit"/> (0: none); a wait with no arrival for <paramref name="stall"/> fails.</summary>
    public OutstandingDeliveries(long limit, TimeSpan stall)
    {
        _limit = limit;
        _stall = stall;
    }

    /// <summary>Deliveries and reported drops so far.</summary>
    public long Arrived => Volatile.Read(ref _arrived);

    /// <summary>Called by a receive loop with what one receive brought (deliveries plus reported drops).</summary>
    public void Add(long count)
    {
        long now = Interlocked.Add(ref _arrived, count);
        // The target is written before the waiter (both volatile), so a waiter seen here comes with its target.
        if (Volatile.Read(ref _waiter) is { } waiter && now >= Volatile.Read(ref _target)
            && Interlocked.CompareExchange(ref _waiter, null, waiter) == waiter)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>
    /// Waits until a publication of <paramref name="deliveries"/> deliveries may go out, with <paramref name="expected"/>
    /// deliveries expected from the publications before it. Fails when nothing arrives for the stall timeout: what
    /// the server owes then is lost, and the run says so.
    /// </summary>
    public async ValueTask WaitForRoomAsync(long expected, long deliveries, CancellationToken cancellationToken)
    {
        if (_limit == 0)
        {
            return;
        }

        // One publication bigger than the bound may still go out, alone in the pipe.
        long target = expected + deliveries - Math.Max(_limit, deliveries);
        while (Volatile.Read(ref _arrived) < target)
        {
            long before = Volatile.Read(ref _arrived);
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _target, target);
            Volatile.Write(ref _waiter, waiter);
            if (Volatile.Read(ref _arrived) >= target && Interlocked.CompareExchange(ref _waiter, null, waiter) == waiter)
            {
                return;  // arrived between the check and the waiter's publication, which no receive loop saw
            }

            try
            {
                await waiter.Task.WaitAsync(_stall, cancellationToken);
            }
            catch (TimeoutException) when (Volatile.Read(ref _arrived) == before)
            {
                throw new TimeoutException($"no delivery for {_stall.TotalSeconds:0} s with {expected - before:N0} outstanding: the publisher stopped");
            }
            catch (TimeoutException)
            {
                // Progress, just not enough yet: wait again.
            }
            finally
            {
                Interlocked.CompareExchange(ref _waiter, null, waiter);
            }
        }
    }
}
