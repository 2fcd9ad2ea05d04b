namespace Broker.Engines;

/// <summary>
/// Something a channel's subscribers receive in order: a <see cref="Publication"/> or a
/// <see cref="PresenceEvent"/>. Immutable, shared by every subscriber, and encoded once per wire format.
/// </summary>
public abstract class ChannelMessage
{
    /// <summary>
    /// Bytes charged to a queue for a message on top of its data: an estimate of the frame around it
    /// (field names, offset, epoch, time). 128 covers the JSON <c>pub</c> frame's fixed text with room.
    /// </summary>
    public const int FixedOverheadBytes = 128;

    // Encoded forms, newest first. A linked list rather than a slot array: there are one or two formats
    // in practice, the walk is one or two hops, and nothing is allocated until a format is asked for.
    private EncodedForm? _encoded;

    /// <summary>Creates a message of <paramref name="channel"/>.</summary>
    protected ChannelMessage(string channel) => Channel = channel;

    /// <summary>The channel the message belongs to.</summary>
    public string Channel { get; }

    /// <summary>What the message costs a subscriber's byte-bounded queue.</summary>
    public abstract int QueueBytes { get; }

    /// <summary>
    /// The message in <paramref name="format"/>, encoded on first use and then shared: a thousand
    /// subscribers of a publication cost one encoding. Safe from any thread; if two threads race, both
    /// encode once and everyone gets the bytes that won.
    /// </summary>
    public byte[] GetEncoded(WireFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        for (var node = Volatile.Read(ref _encoded); node is not null; node = node.Next)
        {
            if (ReferenceEquals(node.Format, format))
            {
                return node.Bytes;
            }
        }

        var bytes = format.Encode(this);
        while (true)
        {
            var head = Volatile.Read(ref _encoded);
            for (var node = head; node is not null; node = node.Next)
            {
                if (ReferenceEquals(node.Format, format))
                {
                    return node.Bytes;
                }
            }

            if (Interlocked.CompareExchange(ref _encoded, new EncodedForm(format, bytes, head), head) == head)
            {
                return bytes;
            }
        }
    }

    private sealed class EncodedForm(WireFormat format, byte[] bytes, EncodedForm? next)
    {
        public readonly WireFormat Format = format;
        public readonly byte[] Bytes = bytes;
        public readonly EncodedForm? Next = next;
    }
}
