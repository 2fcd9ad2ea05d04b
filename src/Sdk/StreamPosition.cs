namespace Broker.Sdk;

/// <summary>A position in a channel's stream: the <see cref="Epoch"/> (one life of the numbering) and the <see cref="Offset"/> in it.</summary>
/// <param name="Epoch">The opaque epoch; it changes when the history behind the offsets is lost (e.g. a broker restart).</param>
/// <param name="Offset">The offset of a publication, 1, 2, 3 …; 0 before the first.</param>
public readonly record struct StreamPosition(string Epoch, ulong Offset);
