using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Contracts.V1;

namespace EventSourcedRegistry.Api.Tests.Contracts;

/// <summary>
/// Checks a server answer against the contract record a client reads it into: deserialized with the client's options and
/// serialized back, the JSON tree must be the server's (a field the record lacks is lost; one it invents is added), and
/// every contract property the server sent is noted, so a property it never sends can be named as drift too.
/// </summary>
public sealed class ContractDrift
{
    private readonly List<string> _problems = [];
    private readonly HashSet<(Type Record, string Property)> _sent = [];
    private readonly HashSet<Type> _records = [];

    public IReadOnlyList<string> Problems => _problems;

    public void Check<T>(string answer, JsonNode? server)
    {
        if (server is null)
        {
            _problems.Add($"{answer}: no body");
            return;
        }
        T? record;
        try
        {
            record = server.Deserialize<T>(WireJson.Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            _problems.Add($"{answer}: {typeof(T).Name} cannot read it: {e.Message}");
            return;
        }
        var back = JsonSerializer.SerializeToNode(record, WireJson.Options);
        Compare(answer, typeof(T).Name, "$", server, back);
        Reach(typeof(T));
        Note(typeof(T), server);
    }

    /// <summary>Contract properties (of the records reached from the checked ones) that no checked answer carried.</summary>
    public IEnumerable<string> NeverSent() =>
        from record in _records
        from property in Properties(record)
        where !_sent.Contains((record, property.Name))
        orderby record.Name, property.Name
        select $"{record.Name}.{property.Name}";

    private void Compare(string answer, string record, string path, JsonNode? server, JsonNode? back)
    {
        switch (server, back)
        {
            case (JsonObject s, JsonObject b):
                foreach (var (name, value) in s)
                {
                    if (!b.ContainsKey(name)) _problems.Add($"{answer}: {path}.{name} is sent by the server but {record} drops it");
                    else Compare(answer, record, $"{path}.{name}", value, b[name]);
                }
                foreach (var (name, _) in b)
                    if (!s.ContainsKey(name)) _problems.Add($"{answer}: {path}.{name} is written by {record} but the server did not send it");
                break;
            case (JsonArray s, JsonArray b):
                if (s.Count != b.Count) _problems.Add($"{answer}: {path} has {s.Count} items from the server, {b.Count} through {record}");
                else for (var i = 0; i < s.Count; i++) Compare(answer, record, $"{path}[{i}]", s[i], b[i]);
                break;
            default:
                if (!JsonNode.DeepEquals(server, back) && !SameInstant(server, back))
                    _problems.Add($"{answer}: {path} is {server?.ToJsonString()} from the server, {back?.ToJsonString()} through {record}");
                break;
        }
    }

    // An instant may be written with other digits (trailing zeros of a fraction) and still be the same instant.
    private static bool SameInstant(JsonNode? server, JsonNode? back) =>
        server is JsonValue s && back is JsonValue b && s.TryGetValue<DateTimeOffset>(out var x) && b.TryGetValue<DateTimeOffset>(out var y) && x == y;

    private void Note(Type type, JsonNode? node)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (node is null || type == typeof(JsonElement) || type == typeof(string)) return;
        if (Element(type) is { } item)
        {
            if (node is JsonArray array) foreach (var each in array) Note(item, each);
            else if (node is JsonObject map) foreach (var (_, each) in map) Note(item, each);
            return;
        }
        if (type.Assembly != typeof(WireJson).Assembly || node is not JsonObject json) return;
        foreach (var property in Properties(type))
        {
            var name = WireJson.Options.PropertyNamingPolicy!.ConvertName(property.Name);
            if (!json.TryGetPropertyValue(name, out var value)) continue;
            _sent.Add((type, property.Name));
            Note(property.PropertyType, value);
        }
    }

    /// <summary>Every contract record the type holds, however deep: one only ever met as an empty list is still checked.</summary>
    private void Reach(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (Element(type) is { } item)
        {
            Reach(item);
            return;
        }
        if (type.Assembly != typeof(WireJson).Assembly || !type.IsClass || !_records.Add(type)) return;
        foreach (var property in Properties(type)) Reach(property.PropertyType);
    }

    /// <summary>The item type of a list or the value type of a string-keyed dictionary.</summary>
    private static Type? Element(Type type)
    {
        if (!type.IsGenericType) return null;
        var definition = type.GetGenericTypeDefinition();
        var arguments = type.GetGenericArguments();
        if (definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>)) return arguments[1];
        if (definition == typeof(IReadOnlyList<>) || definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IEnumerable<>)) return arguments[0];
        return null;
    }

    private static IEnumerable<PropertyInfo> Properties(Type record) =>
        record.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetMethod is not null && p.Name != "EqualityContract"
            && p.GetCustomAttribute<System.Text.Json.Serialization.JsonExtensionDataAttribute>() is null);
}
