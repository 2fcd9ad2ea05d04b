namespace Broker.LoadTest;

/// <summary>The scenarios, in the order they run.</summary>
internal enum Scenario
{
    /// <summary>S subscribers on one channel, publications as fast as the in-flight window allows.</summary>
    FanOut,

    /// <summary>S subscribers on one channel, publications at a fixed rate; latency from the scheduled send time.</summary>
    Paced,

    /// <summary>Every subscriber on its own channel and a shared one; each publication on the shared channel is followed by one on a subscriber's own.</summary>
    Channels,

    /// <summary>
    /// <c>--rooms</c> channels of <c>--room-subs</c> subscribers each, every subscriber on one room; publications go
    /// round-robin over the rooms as fast as the in-flight window allows (the fan-out's rules): the cost per delivery
    /// when each publication has few subscribers.
    /// </summary>
    Rooms,

    /// <summary>SDK gRPC subscribers (<c>SubscribeAsync</c>), the broker only.</summary>
    Grpc,

    /// <summary>N sockets connected and idle: server memory per connection.</summary>
    Idle,

    /// <summary>
    /// Two nodes on one redis-server (the broker's Redis engine; SignalR's Redis backplane), the subscribers split
    /// evenly over both, the publisher on the first: as <see cref="FanOut"/>.
    /// </summary>
    ClusterFanOut,

    /// <summary>The two-node cluster, publications at <c>--cluster-rate</c>; latency of the second node's subscribers reported apart (cross-node).</summary>
    ClusterPaced,

    /// <summary>As <see cref="ClusterPaced"/>, with redis-server stopped (SIGSTOP) for <c>--blip</c> seconds a third of the way in, then continued: what each server lost.</summary>
    ClusterBlip,
}
