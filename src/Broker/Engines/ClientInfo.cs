namespace Broker.Engines;

/// <summary>
/// Who a connection (or a publication's sender) is. One instance per connection, shared by every
/// publication it sends, so naming the sender costs no allocation per message.
/// </summary>
/// <param name="SessionId">The session's public id, or null for a backend.</param>
/// <param name="UserId">The user bound to the session, or null.</param>
/// <param name="ConnectionId">The connection's id, or null.</param>
public sealed record ClientInfo(string? SessionId, string? UserId, string? ConnectionId);
