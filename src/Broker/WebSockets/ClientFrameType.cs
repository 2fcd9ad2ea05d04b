namespace Broker.WebSockets;

/// <summary>The <c>type</c> of a client frame.</summary>
internal enum ClientFrameType
{
    Unknown,
    Hello,
    Subscribe,
    Unsubscribe,
    Publish,
    Send,
    History,
    Presence,
    Ping,
    Pong,
}
