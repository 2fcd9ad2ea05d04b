using System.Text.Json.Serialization;

namespace Broker.Core.Cluster;

/// <summary>Source-generated JSON for <see cref="ControlMessage"/>: no reflection, trimming-safe; defaults left out.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ControlMessage))]
internal sealed partial class ControlJsonContext : JsonSerializerContext
{
}
