using System.Net;
using Broker.Diagnostics;
using Broker.WebSockets.Internal;

namespace Broker.Tests.WebSockets;

public class ConnectionLimiterTests
{
    [Fact]
    public void RefusesPastEachLimit_AndAReleaseMakesRoom()
    {
        var limiter = new ConnectionLimiter(maxConnections: 3, maxPerIp: 2);
        var a = IPAddress.Parse("192.0.2.1");
        var b = IPAddress.Parse("192.0.2.2");

        Assert.Null(limiter.TryAcquire(a));
        Assert.Null(limiter.TryAcquire(a.MapToIPv6()));
        Assert.Equal(LimitKind.ConnectionsPerIp, limiter.TryAcquire(a));
        Assert.Null(limiter.TryAcquire(b));
        Assert.Equal(LimitKind.Connections, limiter.TryAcquire(IPAddress.Parse("192.0.2.3")));
        Assert.Equal(3, limiter.Count);

        limiter.Release(a);
        Assert.Null(limiter.TryAcquire(a));
        limiter.Release(a);
        limiter.Release(a);
        limiter.Release(b);
        Assert.Equal(0, limiter.Count);
    }
}
