namespace Broker.Sessions.Redis.Internal;

/// <summary>A <see cref="TicketEntry"/> as JSON in Redis; short property names keep each entry small.</summary>
/// <param name="SessionId">The grant's session.</param>
/// <param name="UserId">The grant's user, or <see langword="null"/>.</param>
/// <param name="Claims">The grant's claims, or <see langword="null"/> for none.</param>
/// <param name="ExpiresAt">The grant's expiry.</param>
/// <param name="BoundIp">The bound address as text, or <see langword="null"/> for any.</param>
internal sealed record RedisTicketRecord(
    [property: System.Text.Json.Serialization.JsonPropertyName("s")] string SessionId,
    [property: System.Text.Json.Serialization.JsonPropertyName("u")] string? UserId,
    [property: System.Text.Json.Serialization.JsonPropertyName("c")] Dictionary<string, string>? Claims,
    [property: System.Text.Json.Serialization.JsonPropertyName("e")] DateTimeOffset ExpiresAt,
    [property: System.Text.Json.Serialization.JsonPropertyName("ip")] string? BoundIp);
