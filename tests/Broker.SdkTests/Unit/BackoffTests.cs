using Broker.Sdk.Internal;

namespace Broker.SdkTests.Unit;

public sealed class BackoffTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(10);

    [Fact]
    public void Delay_grows_exponentially_with_jitter_within_half_to_full_of_the_ceiling()
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var ceiling = Math.Min(Max.TotalMilliseconds, Min.TotalMilliseconds * Math.Pow(2, attempt));
            for (var i = 0; i < 50; i++)
            {
                var delay = Backoff.Delay(attempt, Min, Max).TotalMilliseconds;
                Assert.InRange(delay, ceiling / 2, ceiling);
            }
        }
    }

    [Fact]
    public void Delay_is_capped_at_the_maximum_even_for_huge_attempt_counts()
    {
        Assert.InRange(Backoff.Delay(int.MaxValue, Min, Max), Max / 2, Max);
    }

    [Fact]
    public void Delay_is_jittered()
    {
        var delays = Enumerable.Range(0, 20).Select(_ => Backoff.Delay(5, Min, Max)).Distinct().Count();
        Assert.True(delays > 1, "Clients cut off together must not all come back at the same moment.");
    }
}
