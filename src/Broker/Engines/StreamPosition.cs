namespace Broker.Engines;

/// <summary>
/// A place in a channel's stream: the epoch that names one life of its numbering, and the offset of a
/// publication in it (0 before the first). PROTOCOL.md, "offset, epoch".
/// </summary>
/// <param name="Epoch">Opaque name of one life of the channel's numbering.</param>
/// <param name="Offset">Offset of the last publication at this place; 0 before the first.</param>
public readonly record struct StreamPosition(string Epoch, ulong Offset);
