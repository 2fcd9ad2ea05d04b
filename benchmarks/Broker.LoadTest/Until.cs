namespace Broker.LoadTest;

/// <summary>Bounded polling: every wait in the load test has a deadline.</summary>
internal static class Until
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(10, cancellationToken);
        }
    }
}
