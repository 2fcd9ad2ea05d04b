namespace Broker.Engines;

/// <summary>
/// A user came to or left a channel with presence on (PROTOCOL.md: <c>join</c> with a user's first
/// connection to the channel, <c>leave</c> with the last). Delivered in order with publications.
/// </summary>
public sealed class PresenceEvent : ChannelMessage
{
    /// <summary>Creates a join or leave of <paramref name="userId"/> on <paramref name="channel"/>.</summary>
    public PresenceEvent(string channel, bool joined, string userId)
        : base(channel)
    {
        Joined = joined;
        UserId = userId;
    }

    /// <summary>True for <c>join</c>, false for <c>leave</c>.</summary>
    public bool Joined { get; }

    /// <summary>The user who joined or left.</summary>
    public string UserId { get; }

    /// <inheritdoc/>
    public override int QueueBytes => FixedOverheadBytes + Channel.Length + UserId.Length;
}
