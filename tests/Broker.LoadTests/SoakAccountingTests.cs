using Broker.LoadTest;
using Broker.LoadTest.Soak;

namespace Broker.LoadTests;

/// <summary>
/// The soak's judges on made-up input: a gap is lost only when acknowledged and not told as lagged, a subscription
/// that stayed is owed the channel's top, RSS "flat" is a slope bound, and an Error in the broker's log is caught.
/// The soak itself could pass by never noticing; these say it would notice.
/// </summary>
public sealed class SoakAccountingTests
{
    private static AckLedger Acked(string channel, string epoch, params long[] offsets)
    {
        var acks = new AckLedger();
        foreach (var offset in offsets)
        {
            acks.Acked(channel, epoch, offset);
        }

        return acks;
    }

    [Fact]
    public void AGapOfAcknowledgedPublicationsIsLost()
    {
        var acks = Acked("soak:a", "e1", 5, 6, 7, 8);
        var subscription = new SoakSubscription("soak:a", "e1", start: 4);
        subscription.Publication(5);
        subscription.Publication(8);  // 6 and 7 never came, and no lagged told of them

        var (lost, missed) = subscription.Judge(acks, top: 8);

        Assert.Equal(2, lost);
        Assert.Equal(0, missed);
    }

    [Fact]
    public void AGapToldAsLaggedIsNotLost()
    {
        var acks = Acked("soak:a", "e1", 5, 6, 7, 8, 9);
        var subscription = new SoakSubscription("soak:a", "e1", start: 4);
        subscription.Publication(5);
        subscription.Lagged(dropped: 2, lastDropped: 7);
        subscription.Publication(8);
        subscription.Publication(9);

        Assert.Equal((0, 0), subscription.Judge(acks, top: 9));
        Assert.Equal(2, subscription.LaggedOffsets);
    }

    [Fact]
    public void ALaggedCoversOnlyWhatItNamed()
    {
        var acks = Acked("soak:a", "e1", 1, 2, 3, 4, 5, 6);
        var subscription = new SoakSubscription("soak:a", "e1", start: 0);
        subscription.Publication(1);
        subscription.Lagged(dropped: 1, lastDropped: 3);  // told of 3 only: 2, 4 and 5 are lost
        subscription.Publication(6);

        Assert.Equal((3, 0), subscription.Judge(acks, top: 6));
    }

    [Fact]
    public void AMissingPublicationNobodyAcknowledgedIsReportedNotLost()
    {
        var acks = Acked("soak:a", "e1", 1, 3);
        var subscription = new SoakSubscription("soak:a", "e1", start: 0);
        subscription.Publication(1);
        subscription.Publication(3);

        Assert.Equal((0, 1), subscription.Judge(acks, top: 3));
    }

    [Fact]
    public void ASubscriptionThatStayedIsOwedTheTopOneThatLeftIsNot()
    {
        var acks = Acked("soak:a", "e1", 1, 2, 3);
        var stayed = new SoakSubscription("soak:a", "e1", start: 0) { StayedToEnd = true };
        var left = new SoakSubscription("soak:a", "e1", start: 0);
        foreach (var subscription in new[] { stayed, left })
        {
            subscription.Publication(1);
        }

        Assert.Equal((2, 0), stayed.Judge(acks, top: 3));
        Assert.Equal((0, 0), left.Judge(acks, top: 3));
    }

    [Fact]
    public void ARepeatedOffsetIsADuplicate()
    {
        var subscription = new SoakSubscription("soak:a", "e1", start: 0);
        subscription.Publication(1);
        subscription.Publication(2);
        subscription.Publication(2);
        subscription.Publication(1);

        Assert.Equal(2, subscription.Duplicates);
        Assert.Equal(2, subscription.Delivered);
    }

    [Fact]
    public void AnEpochIsItsOwnNumbering()
    {
        var acks = Acked("soak:a", "e2", 2);
        var subscription = new SoakSubscription("soak:a", "e1", start: 0);
        subscription.Publication(3);  // 1 and 2 of e1 were never acknowledged: e2's 2 is another publication

        Assert.Equal((0, 2), subscription.Judge(acks, top: 3));
    }

    [Fact]
    public void RssThatGrowsAfterTheWarmupIsNotFlat()
    {
        var leaking = new RssCurve();
        var flat = new RssCurve();
        var random = new Random(7);
        for (int s = 0; s <= 300; s += 5)
        {
            // Both rise during the first minute and jitter by ±4 MiB (GC); one then grows 3 MiB a minute.
            double warm = Math.Min(s, 60) * 1.5;
            double jitter = (random.NextDouble() - 0.5) * 8;
            flat.Add(new RssSample(s, Mib(100 + warm + jitter), 0, 0, 0, 0));
            leaking.Add(new RssSample(s, Mib(100 + warm + jitter + (Math.Max(0, s - 60) / 60.0 * 3)), 0, 0, 0, 0));
        }

        var flatVerdict = flat.Judge(warmup: 60, end: 300, window: 180, maxSlope: 2);
        var leakingVerdict = leaking.Judge(warmup: 60, end: 300, window: 180, maxSlope: 2);

        Assert.True(flatVerdict is { Judged: true, Flat: true }, flatVerdict.Text);
        Assert.True(leakingVerdict is { Judged: true, Flat: false }, leakingVerdict.Text);
        Assert.InRange(leakingVerdict.SlopeMiBPerMinute!.Value, 2, 4);
        Assert.False(flat.Judge(warmup: 60, end: 200, window: 180, maxSlope: 2).Judged);  // the window would reach into the warm-up
        Assert.Equal(62, flat.Csv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);  // a header and every sample
    }

    [Fact]
    public void ErrorEntriesInTheBrokersOutputAreCaughtWithTheirMessage()
    {
        var output = new OutputTail();
        output.Add("warn: Broker.WebSockets[3] something a client did");
        output.Add("      the client's message");
        output.Add("fail: Broker.WebSockets[20]");
        output.Add("      Connection abc failed");
        output.Add("      System.InvalidOperationException: boom");
        output.Add("info: later");
        output.Add("crit: Microsoft.Hosting.Lifetime[0] died");

        var errors = output.Errors();

        Assert.Equal(2, errors.Count);
        Assert.Equal("fail: Broker.WebSockets[20] | Connection abc failed | System.InvalidOperationException: boom", errors[0]);
        Assert.StartsWith("crit:", errors[1], StringComparison.Ordinal);
    }

    private static long Mib(double mib) => (long)(mib * 1024 * 1024);
}
