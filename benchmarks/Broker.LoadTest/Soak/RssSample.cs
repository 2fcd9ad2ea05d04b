namespace Broker.LoadTest.Soak;

/// <summary>One sample of the soak: seconds since its start, the broker's VmRSS, and its <c>/stats</c> counts then.</summary>
internal readonly record struct RssSample(double Seconds, long RssBytes, long Connections, long Subscriptions, long Publications, long Deliveries);
