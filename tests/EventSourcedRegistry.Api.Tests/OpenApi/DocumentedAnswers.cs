using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using Json.Schema;

namespace EventSourcedRegistry.Api.Tests.OpenApi;

/// <summary>
/// Checks a real answer against what the served document declares for its operation: the status is listed, the body's
/// media type is listed for it, and a JSON body validates against the declared schema (OpenAPI 3.1 schemas are JSON Schema
/// 2020-12; <c>#/components/schemas/…</c> references resolve to the document's components). The components are checked
/// strictly: an object schema that lists properties admits no others, so a field the server sends but the document does not
/// name fails too (problems excepted: RFC 9457 lets a problem carry extension members).
/// </summary>
internal sealed class DocumentedAnswers
{
    private static readonly HashSet<string> OpenObjects = ["ProblemDetails", "HttpValidationProblemDetails"];
    private readonly JsonObject _document;
    private readonly JsonObject _definitions;

    public DocumentedAnswers(JsonObject document)
    {
        _document = document;
        _definitions = Strict(document["components"]!["schemas"]!.DeepClone().AsObject());
    }

    /// <summary>Why <paramref name="response"/> is not what the document declares for <paramref name="method"/> <paramref name="template"/>; empty when it is.</summary>
    public IReadOnlyList<string> Mismatches(string method, string template, RegistryCalls.Response response)
    {
        var name = $"{method.ToUpperInvariant()} {template} → {response.Status}";
        if (_document["paths"]?[template]?[method] is not JsonObject operation) return [$"{name}: the document has no such operation"];
        if (operation["responses"]?[response.Status.ToString()] is not JsonObject declared)
            return [$"{name}: the status is not declared (declared: {string.Join(", ", operation["responses"]!.AsObject().Select(r => r.Key))}); body {response.Body?.ToJsonString()}"];

        var mediaType = response.Raw.Content.Headers.ContentType?.MediaType;
        var hasBody = response.Body is not null;
        if (!hasBody) return declared["content"] is null || method == "head" ? [] : [$"{name}: no body, but the document declares one"];
        if (declared["content"]?[mediaType!] is not JsonObject content)
            return [$"{name}: {mediaType} is not declared (declared: {string.Join(", ", declared["content"]?.AsObject().Select(c => c.Key) ?? [])})"];
        if (mediaType is not ("application/json" or "application/problem+json")) return [];

        return Validate(content["schema"]!, response.Body!).Select(error => $"{name}: {error}; body {Clip(response.Body!.ToJsonString())}").ToList();
    }

    /// <summary>Why <paramref name="instance"/> breaks <paramref name="schema"/> (resolved against the document's components).</summary>
    public IReadOnlyList<string> Validate(JsonNode schema, JsonNode instance)
    {
        var root = schema.DeepClone().AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = _definitions.DeepClone();
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var compiled = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using var parsed = JsonDocument.Parse(instance.ToJsonString(), new JsonDocumentOptions { MaxDepth = 512 });
        var results = compiled.Evaluate(parsed.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return [];
        var errors = new[] { results }.Concat(results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value} ({d.EvaluationPath})"))
            .ToList();
        return errors.Count > 0 ? errors : ["the body does not satisfy the schema"];
    }

    private static JsonObject Strict(JsonObject definitions)
    {
        foreach (var (name, schema) in definitions)
            if (!OpenObjects.Contains(name) && schema is JsonObject o && o["properties"] is not null && o["additionalProperties"] is null)
                o["additionalProperties"] = false;
        return definitions;
    }

    private static string Clip(string text) => text.Length > 400 ? text[..400] + "…" : text;
}
