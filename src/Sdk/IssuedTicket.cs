namespace Broker.Sdk;

/// <summary>A one-time WebSocket ticket from <see cref="BrokerClient.IssueTicketAsync"/>.</summary>
/// <param name="Ticket">The ticket, for the browser's <c>hello</c>.</param>
/// <param name="ExpiresAt">When it stops being accepted.</param>
/// <param name="SessionId">The session it binds to (new when none was given).</param>
public sealed record IssuedTicket(string Ticket, DateTimeOffset ExpiresAt, string SessionId);
