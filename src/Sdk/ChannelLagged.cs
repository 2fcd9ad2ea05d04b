namespace Broker.Sdk;

/// <summary>The broker dropped publications of a channel for this subscriber (the broker's <c>Lagged</c>).</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Dropped">How many were dropped.</param>
/// <param name="LastDropped">The position of the last dropped publication; read history from your last seen offset up to it.</param>
public sealed record ChannelLagged(string Channel, ulong Dropped, StreamPosition? LastDropped);
