namespace Broker.Engines;

/// <summary>One member of a channel's presence: a session (with its user, if any) and its connection count.</summary>
/// <param name="SessionId">The session's public id.</param>
/// <param name="UserId">The session's user, or null.</param>
/// <param name="Connections">The session's connections subscribed to the channel.</param>
public readonly record struct PresenceEntry(string SessionId, string? UserId, int Connections);
