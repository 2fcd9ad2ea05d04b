using System.Net;
using Broker.Testing;
using Broker.WebSockets.Internal;

namespace Broker.Tests.WebSockets;

public class HelloGuardTests
{
    private static readonly IPAddress Guesser = IPAddress.Parse("203.0.113.7");

    [Fact]
    public void AnAddressIsBlockedAtItsLimit_ForTheRestOfTheMinute_AndOthersAreNot()
    {
        var time = new ManualTimeProvider();
        var guard = new HelloGuard(maxFailures: 3, time);

        Assert.False(guard.RecordFailure(Guesser));
        Assert.False(guard.RecordFailure(Guesser));
        Assert.False(guard.IsBlocked(Guesser));
        Assert.True(guard.RecordFailure(Guesser));  // this one used up the allowance: the caller logs it once
        Assert.True(guard.IsBlocked(Guesser));
        Assert.False(guard.RecordFailure(Guesser));  // further ones are not "the one" again
        Assert.False(guard.IsBlocked(IPAddress.Parse("203.0.113.8")));

        time.Advance(HelloGuard.Window);
        Assert.False(guard.IsBlocked(Guesser));
    }

    [Fact]
    public void IPv4AndItsMappedIPv6Spelling_AreOneAddress()
    {
        var guard = new HelloGuard(maxFailures: 2, new ManualTimeProvider());
        guard.RecordFailure(Guesser);
        guard.RecordFailure(Guesser.MapToIPv6());
        Assert.True(guard.IsBlocked(Guesser));
    }

    [Fact]
    public void TheTable_ForgetsAddressesWhoseWindowEnded()
    {
        var time = new ManualTimeProvider();
        var guard = new HelloGuard(maxFailures: 5, time);
        for (int i = 0; i < 1000; i++)
        {
            guard.RecordFailure(new IPAddress([198, 51, (byte)(i >> 8), (byte)i]));
        }

        Assert.Equal(1000, guard.Tracked);
        time.Advance(HelloGuard.Window + TimeSpan.FromSeconds(1));
        guard.RecordFailure(Guesser);  // the first failure of a new window sweeps the old ones
        Assert.Equal(1, guard.Tracked);
    }
}
