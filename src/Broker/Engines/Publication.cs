using Broker.Diagnostics;

namespace Broker.Engines;

/// <summary>
/// One numbered publication of a channel: <c>{channel, event, data, offset, epoch, time, from}</c>
/// (PROTOCOL.md). Made by the engine when it assigns the offset, then shared read-only by history and
/// every subscriber.
/// </summary>
public sealed class Publication : ChannelMessage
{
    /// <summary>Creates a publication. <paramref name="data"/> is UTF-8 JSON and is not copied.</summary>
    public Publication(string channel, string @event, ReadOnlyMemory<byte> data, StreamPosition position, DateTimeOffset time, ClientInfo? from)
        : base(channel)
    {
        Event = @event;
        Data = data;
        Offset = position.Offset;
        Epoch = position.Epoch;
        Time = time;
        From = from;
        // The engine makes the publication on the publisher's flow, inside its `publish` activity (if
        // traced): remember that activity so deliveries can link to it. An AsyncLocal read when not traced.
        if (System.Diagnostics.Activity.Current is { Source.Name: Diagnostics.BrokerTracing.SourceName } activity)
        {
            Trace = new TraceLink(activity.Context);
        }

        QueueBytes = data.Length + channel.Length + @event.Length + FixedOverheadBytes;
    }

    /// <summary>The event name inside the channel.</summary>
    public string Event { get; }

    /// <summary>The payload: one JSON value, UTF-8.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The publication's number in its channel, from 1.</summary>
    public ulong Offset { get; }

    /// <summary>The life of the channel's numbering this offset belongs to.</summary>
    public string Epoch { get; }

    /// <summary>When the engine accepted it.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The <c>publish</c> activity this publication was made in, when traced; deliveries link to it.</summary>
    public TraceLink? Trace { get; }

    /// <summary>Who sent it: a browser's session and user, or null for a backend.</summary>
    public ClientInfo? From { get; }

    /// <summary>The position this publication occupies.</summary>
    public StreamPosition Position => new(Epoch, Offset);

    /// <inheritdoc/>
    public override int QueueBytes { get; }
}
