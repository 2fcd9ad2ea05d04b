using System.Text.Json;
using Broker.Sessions;
using Broker.Sessions.Internal;
using Microsoft.Extensions.Options;

namespace Broker.Demo;

/// <summary>
/// <c>POST /demo/login</c> with <c>{"name":"alice"}</c>: binds the user <c>alice</c> to the caller's
/// session (made if needed) so the demo page can show users, presence and personal notices without a
/// backend that mints tickets. Only mapped when <see cref="DemoOptions.Enabled"/>.
/// </summary>
public static class DemoEndpoints
{
    /// <summary>Longest demo name; a demo user id is 1-32 of <c>[A-Za-z0-9_.-]</c>.</summary>
    public const int MaxNameLength = 32;

    /// <summary>Maps the demo endpoints when the demo is enabled.</summary>
    public static WebApplication MapBrokerDemo(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<DemoOptions>>().Value;
        if (options.Enabled)
        {
            app.MapPost("/demo/login", LoginAsync);
        }

        return app;
    }

    private static async Task<IResult> LoginAsync(HttpContext context, OriginPolicy origins, SessionResolver sessions, ISessionStore store)
    {
        if (origins.Evaluate(context.Request) != OriginDecision.Allowed)
        {
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }

        string? name = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("name", out var value) && value.ValueKind == JsonValueKind.String)
            {
                name = value.GetString();
            }
        }
        catch (JsonException)
        {
        }

        if (name is null || !IsValidName(name))
        {
            return Results.Json(
                new SessionEndpoints.ErrorReply("bad_request", $"'name' must be 1-{MaxNameLength} of A-Z, a-z, 0-9, '_', '.', '-'."),
                SessionsJsonContext.Wire.ErrorReply,
                statusCode: StatusCodes.Status400BadRequest);
        }

        var session = await sessions.GetOrCreateAsync(context, context.RequestAborted);
        var bound = await store.BindUserAsync(session.SessionId, name, context.RequestAborted) ?? session;
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new SessionEndpoints.SessionReply(bound.SessionId, bound.UserId), SessionsJsonContext.Wire.SessionReply);
    }

    private static bool IsValidName(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
