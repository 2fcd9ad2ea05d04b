namespace Broker.Engines;

/// <summary>A publication to make, before the engine numbers it.</summary>
/// <param name="Channel">A valid channel name (regular or personal).</param>
/// <param name="Event">A valid event name.</param>
/// <param name="Data">UTF-8 JSON, already validated; not copied, so the caller must not reuse the buffer.</param>
/// <param name="From">The sender, or null for a backend.</param>
/// <param name="IdempotencyKey">When set, a repeat within <see cref="IEngine.IdempotencyWindow"/> on the same channel publishes nothing.</param>
/// <param name="History">What the channel keeps; the default keeps nothing.</param>
public readonly record struct PublishCommand(string Channel, string Event, ReadOnlyMemory<byte> Data, ClientInfo? From = null, string? IdempotencyKey = null, HistoryOptions History = default);
