using Broker.WebSockets;
namespace Broker.WebSockets.Internal;

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
