namespace Broker.Sdk;

/// <summary>
/// Callbacks and settings of <see cref="BrokerClient.SubscribeAsync(IEnumerable{string}, IReadOnlyDictionary{string, StreamPosition}?, SubscribeOptions?, CancellationToken)"/>.
/// The callbacks run on the enumerating thread, in stream order: <see cref="OnSubscribed"/> before the channel's first
/// publication, <see cref="OnLagged"/> right before the first publication after a drop. Keep them short; an exception
/// thrown by one ends the enumeration.
/// </summary>
public sealed class SubscribeOptions
{
    /// <summary>
    /// A channel entry is live (once per entry per connection). After a reconnect, <see cref="ChannelSubscribed.Recovered"/>
    /// false on an exact channel means publications were lost (history too short, or a new epoch after a broker restart):
    /// reload that channel's state.
    /// </summary>
    public Action<ChannelSubscribed>? OnSubscribed { get; set; }

    /// <summary>The broker dropped publications for this subscriber (its buffer was full); fill the gap with <see cref="BrokerClient.HistoryAsync"/>.</summary>
    public Action<ChannelLagged>? OnLagged { get; set; }

    /// <summary>The stream failed and the subscription reconnects after the given delay.</summary>
    public Action<Exception, TimeSpan>? OnReconnecting { get; set; }

    /// <summary>The subscriber buffer the broker keeps for this stream, in publications; 0 (the default): the namespace's.</summary>
    public int Buffer { get; set; }
}
