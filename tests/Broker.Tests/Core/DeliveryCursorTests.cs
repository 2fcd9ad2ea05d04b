using Broker.Core.Internal;
using Broker.Core;
using Broker.Engines;
using Broker.Tests.Infrastructure;

namespace Broker.Tests.Core;

public class DeliveryCursorTests
{
    private static Publication Pub(string epoch, ulong offset) => new("c", "message", Json.Of("1"), new StreamPosition(epoch, offset), DateTimeOffset.UnixEpoch, null);

    [Fact]
    public void ContiguousOffsetsHaveNoGap()
    {
        var cursor = new DeliveryCursor(new StreamPosition("e", 4));
        Assert.True(cursor.TryAdvance(Pub("e", 5), out var dropped));
        Assert.Equal(0ul, dropped);
    }

    [Fact]
    public void AJumpCountsTheDroppedPublications()
    {
        var cursor = new DeliveryCursor(new StreamPosition("e", 4));
        Assert.True(cursor.TryAdvance(Pub("e", 10), out var dropped));
        Assert.Equal(5ul, dropped);
        Assert.Equal(10ul, cursor.Offset);
    }

    [Fact]
    public void SeenOffsetsAreRefused()
    {
        var cursor = new DeliveryCursor(new StreamPosition("e", 4));
        Assert.False(cursor.TryAdvance(Pub("e", 4), out _));
        Assert.False(cursor.TryAdvance(Pub("e", 2), out _));
    }

    [Fact]
    public void ANewEpochStartsOver()
    {
        var cursor = new DeliveryCursor(new StreamPosition("e", 40));
        Assert.True(cursor.TryAdvance(Pub("f", 1), out var dropped));
        Assert.Equal(0ul, dropped);
        Assert.Equal("f", cursor.Epoch);
    }
}
