namespace Broker.Sdk;

/// <summary>Who sent a publication or a <c>send</c>: empty strings where the broker has nothing to say.</summary>
/// <param name="SessionId">The browser session's public id.</param>
/// <param name="UserId">The user bound to the session, or empty.</param>
/// <param name="ConnectionId">The WebSocket connection's id.</param>
public sealed record ClientInfo(string SessionId, string UserId, string ConnectionId)
{
    internal static ClientInfo? FromProto(V1.ClientInfo? info) =>
        info is null ? null : new ClientInfo(info.SessionId, info.UserId, info.ConnectionId);
}
