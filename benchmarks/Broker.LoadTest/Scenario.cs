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

    /// <summary>SDK gRPC subscribers (<c>SubscribeAsync</c>), the broker only.</summary>
    Grpc,

    /// <summary>N sockets connected and idle: server memory per connection.</summary>
    Idle,
}
