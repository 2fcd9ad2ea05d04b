namespace Broker.Engines;

/// <summary>
/// One way of putting a <see cref="ChannelMessage"/> on the wire (the WebSocket JSON frame, the gRPC
/// <c>Delivery</c>). A message is encoded at most once per format, lazily, and every subscriber shares
/// the bytes: see <see cref="ChannelMessage.GetEncoded"/>. Formats are long-lived singletons.
/// </summary>
public abstract class WireFormat
{
    /// <summary>Encodes <paramref name="message"/>. Called at most once per message and format, from any thread.</summary>
    public abstract byte[] Encode(ChannelMessage message);
}
