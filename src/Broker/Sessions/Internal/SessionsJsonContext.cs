using System.Text.Json;
using System.Text.Json.Serialization;
using Broker.Core;

namespace Broker.Sessions.Internal;

/// <summary>
/// Source-generated JSON for the HTTP replies (<c>POST /session</c>, <c>/tickets</c>, their refusals, the demo's sign-in):
/// no reflection, so they serialize in a Native AOT publish as in a JIT run (docs/performance.md, "Native AOT: an opt-in publish").
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SessionEndpoints.SessionReply))]
[JsonSerializable(typeof(SessionEndpoints.TicketReply))]
[JsonSerializable(typeof(SessionEndpoints.ErrorReply))]
internal sealed partial class SessionsJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The replies' JSON: ASP.NET Core's web defaults (camelCase) escaped as the WebSocket frames are
    /// (<see cref="WireJsonEncoder"/>: readable error messages, no <c>\u0027</c> for an apostrophe).
    /// </summary>
    public static SessionsJsonContext Wire { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { Encoder = WireJsonEncoder.Instance });
}
