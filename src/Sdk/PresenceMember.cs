namespace Broker.Sdk;

/// <summary>One session in a channel, from <see cref="BrokerClient.PresenceAsync"/>.</summary>
/// <param name="SessionId">The session's public id.</param>
/// <param name="UserId">Its user, or empty.</param>
/// <param name="Connections">How many of its connections are subscribed.</param>
public sealed record PresenceMember(string SessionId, string UserId, int Connections);
