using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using Json.Schema;

namespace EventSourcedRegistry.Metadata;

/// <summary>Where in the metadata a schema found a problem (<c>metadata</c>, <c>metadata/owner</c>), and what.</summary>
public sealed record MetadataError(string Location, string Message);

/// <summary>
/// Metadata standards: an optional JSON Schema per registry and per model that every new version's free metadata must
/// satisfy (both, when both are set). Schemas are JSON Schema 2020-12 unless they name another draft in <c>$schema</c>;
/// they are self-contained: a <c>$ref</c> may point into the schema itself, never at a URL (nothing is fetched).
/// </summary>
public static class MetadataStandard
{
    public const int MaxSchemaBytes = 64 * 1024;
    private const int MaxErrors = 50;

    // Schemas are compiled once per distinct text: a registration validates against the same one or two every time.
    private static readonly ConcurrentDictionary<string, JsonSchema> Compiled = new();
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>Why the document is not a usable JSON Schema; empty when it is one.</summary>
    public static IReadOnlyList<string> CheckSchema(JsonElement schema)
    {
        if (schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            return ["A JSON Schema is a JSON object (or true / false)."];
        var text = schema.GetRawText();
        if (text.Length > MaxSchemaBytes) return [$"A metadata schema is limited to {MaxSchemaBytes / 1024} KiB of JSON."];

        var errors = new List<string>();
        if (schema.ValueKind == JsonValueKind.Object && !schema.TryGetProperty("$schema", out _))
        {
            // Without $schema the document is read as 2020-12: check it against that meta-schema, so a misspelt
            // keyword value ("type": "strin") is refused now rather than failing every registration later.
            var meta = MetaSchemas.Draft202012.Evaluate(schema, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!meta.IsValid) errors.AddRange(Messages(meta).Select(e => $"{(e.Location.Length == 0 ? "(root)" : e.Location)}: {e.Message}"));
            if (errors.Count > 0) return errors;
        }

        foreach (var reference in ExternalReferences(schema))
            errors.Add($"\"$ref\": \"{reference}\" points outside the schema; a metadata schema must be self-contained (references start with '#'), since nothing is fetched.");
        if (errors.Count > 0) return errors;

        try
        {
            var compiled = Compile(text);
            // Evaluating once resolves every $ref: one that points outside the document fails here, not at registration.
            compiled.Evaluate(EmptyObject, new EvaluationOptions { OutputFormat = OutputFormat.Flag });
        }
        catch (Exception ex) when (ex is JsonSchemaException or RefResolutionException or JsonException or ArgumentException
                                       or InvalidOperationException or NotSupportedException or UriFormatException)
        {
            errors.Add($"The schema cannot be used: {ex.Message}");
        }
        return errors;
    }

    /// <summary>
    /// Every place where <paramref name="metadata"/> breaks <paramref name="schema"/>. A version without metadata is
    /// checked as an empty object, so a schema that requires keys refuses it and one that only constrains keys does not.
    /// </summary>
    public static IReadOnlyList<MetadataError> Validate(JsonElement schema, JsonElement? metadata)
    {
        var compiled = Compile(schema.GetRawText());
        var instance = metadata is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } m ? m : EmptyObject;
        var results = compiled.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return [];
        var errors = Messages(results).ToList();
        return errors.Count > 0 ? errors : [new MetadataError("", "The metadata does not satisfy the schema.")];
    }

    /// <summary>
    /// The 400 for metadata that breaks the model's or the registry's standard, with each problem in <c>errors</c>
    /// under <c>metadata</c> or <c>metadata/&lt;pointer&gt;</c>; null when the metadata satisfies both (or neither is set).
    /// </summary>
    public static Decision? MetadataRefusal(JsonElement? modelSchema, JsonElement? registrySchema, JsonElement? metadata)
    {
        var errors = new List<(string Field, string Error)>();
        if (registrySchema is { } registry)
            errors.AddRange(Validate(registry, metadata).Select(e => (Field(e), "registry metadata schema: " + e.Message)));
        if (modelSchema is { } model)
            errors.AddRange(Validate(model, metadata).Select(e => (Field(e), "model metadata schema: " + e.Message)));
        if (errors.Count == 0) return null;

        var grouped = errors.Take(MaxErrors).GroupBy(e => e.Field)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Error).Distinct().ToArray());
        return Decision.Reject(RejectionKind.Invalid, "The metadata does not meet the metadata standard",
            "The version's metadata does not satisfy the " +
            (registrySchema is not null && modelSchema is not null ? "registry's and the model's metadata schemas" :
                registrySchema is not null ? "registry's metadata schema" : "model's metadata schema") +
            ": " + string.Join(" ", errors.Take(5).Select(e => $"{e.Field}: {e.Error}.")),
            new Dictionary<string, object?> { ["errors"] = grouped });

        static string Field(MetadataError e) => e.Location.Length == 0 ? "metadata" : "metadata" + e.Location;
    }

    public static Decision SetModelSchema(ModelView model, JsonElement schema)
    {
        if (model.Archived) return Decision.Conflict($"Model '{model.Name}' is archived and accepts no commands but restore.");
        if (model.MetadataSchema is { } current && JsonElement.DeepEquals(current, schema)) return Decision.Unchanged;
        return Decision.Accept(new ModelMetadataSchemaSet(model.Id, schema.Clone()));
    }

    public static Decision RemoveModelSchema(ModelView model)
    {
        if (model.Archived) return Decision.Conflict($"Model '{model.Name}' is archived and accepts no commands but restore.");
        return model.MetadataSchema is null
            ? Decision.NotFound($"Model '{model.Name}' has no metadata schema.")
            : Decision.Accept(new ModelMetadataSchemaRemoved(model.Id));
    }

    public static Decision SetRegistrySchema(RegistrySettings? settings, JsonElement schema) =>
        settings?.MetadataSchema is { } current && JsonElement.DeepEquals(current, schema)
            ? Decision.Unchanged
            : Decision.Accept(new RegistryMetadataSchemaSet(schema.Clone()));

    public static Decision RemoveRegistrySchema(RegistrySettings? settings) =>
        settings?.MetadataSchema is null
            ? Decision.NotFound("The registry has no metadata schema.")
            : Decision.Accept(new RegistryMetadataSchemaRemoved());

    private static JsonSchema Compile(string text)
    {
        var key = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        if (Compiled.TryGetValue(key, out var schema)) return schema;
        // A registry of its own per schema: two schemas with the same $id never collide, and nothing is fetched.
        schema = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        if (Compiled.Count > 1000) Compiled.Clear();
        return Compiled.GetOrAdd(key, schema);
    }

    private static IEnumerable<string> ExternalReferences(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name is "$ref" or "$dynamicRef" && property.Value.ValueKind == JsonValueKind.String
                        && property.Value.GetString() is { } target && !target.StartsWith('#'))
                        yield return target;
                    foreach (var inner in ExternalReferences(property.Value)) yield return inner;
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                foreach (var inner in ExternalReferences(item)) yield return inner;
                break;
        }
    }

    private static IEnumerable<MetadataError> Messages(EvaluationResults results)
    {
        var nodes = new[] { results }.Concat(results.Details ?? []);
        foreach (var node in nodes)
        {
            if (node.Errors is not { Count: > 0 } errors) continue;
            var location = node.InstanceLocation.ToString();
            foreach (var (_, message) in errors) yield return new MetadataError(location, message);
        }
    }
}
