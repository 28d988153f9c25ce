using System.Text.Json;
using System.Text.Json.Serialization;

namespace EventSourcedRegistry.Api.Infrastructure;

public static class Json
{
    /// <summary>The API's wire format: camelCase, enums as strings, nulls left out.</summary>
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        if (!options.Converters.OfType<JsonStringEnumConverter>().Any()) options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
