using System.Text.Json;

namespace Broker.Sdk.Internal;

/// <summary>The SDK's default serializer options, shared so their metadata cache is built once.</summary>
internal static class JsonDefaults
{
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
