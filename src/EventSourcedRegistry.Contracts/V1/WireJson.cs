using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedRegistry.Contracts.V1;

/// <summary>How the .NET client reads and writes the records of this namespace: the API's camelCase JSON, nulls left out.</summary>
public static class WireJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A version's metadata may be nested as deep as the server accepts (64) and arrives inside a page: read what it serves.
        MaxDepth = 256,
    };
}
