using System.Text.Json.Nodes;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using Weasel.Core;

namespace EventSourcedRegistry.Tests.Support;

/// <summary>
/// Events as the store writes them: Marten's own System.Text.Json serializer with the registry's settings
/// (camelCase, enums as strings), built without a database.
/// </summary>
public static class EventJson
{
    private static readonly Marten.Services.SystemTextJsonSerializer Serializer = new()
    {
        Casing = Casing.CamelCase,
        EnumStorage = EnumStorage.AsString,
    };

    public static string Serialize(object @event) => Serializer.ToJson(@event);

    /// <summary>Reads stored JSON back the way the store does (an event of an older shape, say).</summary>
    public static T Deserialize<T>(string json) => Serializer.FromJson<T>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)));

    /// <summary>The stored JSON as a Newtonsoft token for Snapshooter, read without reinterpreting dates or numbers.</summary>
    public static JToken Stored(object @event)
    {
        using var reader = new JsonTextReader(new StringReader(Serialize(@event)))
        {
            DateParseHandling = DateParseHandling.None,
            FloatParseHandling = FloatParseHandling.Decimal,
        };
        return JToken.ReadFrom(reader);
    }

    /// <summary>The stored JSON with object properties in ordinal order, so equal events compare equal whatever their dictionaries' order.</summary>
    public static string Canonical(object @event) => Sort(JsonNode.Parse(Serialize(@event)))?.ToJsonString() ?? "null";

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sort(p.Value?.DeepClone())))),
        JsonArray a => new JsonArray(a.Select(item => Sort(item?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };
}
