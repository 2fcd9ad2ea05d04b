using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatBackend;

/// <summary>Source-generated JSON for the backend's messages (camelCase, as the page reads them).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ChatHandler.Post))]
[JsonSerializable(typeof(ChatHandler.Message))]
[JsonSerializable(typeof(ChatHandler.Notice))]
internal sealed partial class ChatJsonContext : JsonSerializerContext
{
}
