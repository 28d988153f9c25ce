using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedRegistry.Api.Infrastructure;

public static class Json
{
    /// <summary>The API's wire format: camelCase, enums as strings, nulls left out, stored JSON at any depth the store keeps.</summary>
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        // A response wraps stored client JSON (a version's metadata in a history page); the default 64 would refuse
        // to write a value the door accepted, and every later read of it would fail. The door bounds the input.
        options.MaxDepth = EventSourcedRegistry.Audit.CanonicalInput.StoredMaxDepth;
        if (!options.Converters.OfType<JsonStringEnumConverter>().Any()) options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
