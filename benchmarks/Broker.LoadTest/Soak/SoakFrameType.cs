namespace Broker.LoadTest.Soak;

/// <summary>The server frames the soak acts on; the rest (<c>pong</c>, <c>join</c> …) are <see cref="Other"/>.</summary>
internal enum SoakFrameType
{
    Other,
    Welcome,
    Subscribed,
    Pub,
    Lagged,
    Ack,
    Error,
    Ping,
    Disconnect,
}
