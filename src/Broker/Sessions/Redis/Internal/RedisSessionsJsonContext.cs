using System.Text.Json.Serialization;

namespace Broker.Sessions.Redis.Internal;

/// <summary>Source-generated JSON for what the Redis stores keep: no reflection, the same bytes on every node.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RedisTicketRecord))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RedisSessionsJsonContext : JsonSerializerContext;
