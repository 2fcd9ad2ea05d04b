using Broker.Sessions.Internal;
namespace Broker.Sessions;

/// <summary>Maps the session endpoints.</summary>
public static class SessionsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>POST /session</c> (make or return the caller's session and its cookie) and <c>POST /tickets</c>
    /// (a one-time WebSocket ticket for the caller's session). Both are same-origin only (<see cref="OriginPolicy"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapBrokerSessions(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/session", SessionEndpoints.PostSession);
        endpoints.MapPost("/tickets", SessionEndpoints.PostTickets);
        return endpoints;
    }
}
