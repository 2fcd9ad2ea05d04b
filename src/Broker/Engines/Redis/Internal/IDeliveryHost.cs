namespace Broker.Engines.Redis.Internal;

/// <summary>What a <see cref="DeliveryShard"/> needs from the engine.</summary>
internal interface IDeliveryHost
{
    /// <summary>Where deliveries go.</summary>
    IEngineHandler Handler { get; }

    /// <summary>A history read, failing with <see cref="EngineUnavailableException"/>.</summary>
    ValueTask<HistoryResult> ReadHistoryAsync(string channel, HistoryQuery query);

    /// <summary>True when this node subscribed to the channel by name or by a matching prefix.</summary>
    bool IsWatched(string channel);

    /// <summary>True when this node subscribed to the channel by name.</summary>
    bool IsWatchedByName(string channel);

    /// <summary>True when a prefix subscription of this node matches the channel.</summary>
    bool IsWatchedByPattern(string channel);
}
