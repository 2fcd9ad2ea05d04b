
namespace Broker.Engines;

/// <summary>Where a publication landed.</summary>
/// <param name="Position">Its epoch and offset; for a duplicate, those of the first publication with the key.</param>
/// <param name="Duplicate">True when the idempotency key was seen within the window and nothing was published.</param>
public readonly record struct PublishResult(StreamPosition Position, bool Duplicate);
