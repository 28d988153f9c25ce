using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace EventSourcedRegistry.Models;

/// <summary>
/// Ascending version numbers stored as runs: a lone version as a number, two or more consecutive ones as
/// <c>[first, last]</c>. A model with thousands of versions in one stage stores a few runs instead of thousands of
/// numbers. The stored form of the registry-state rows (<see cref="History.RegistryState"/>) and of a stored model view's
/// <see cref="ModelView.VersionsByStage"/> (<see cref="StoreModelViewStagesAsRuns"/>); the wire always lists every version.
/// </summary>
public static class VersionRuns
{
    /// <summary>
    /// The most versions one stored run may name: far beyond any model's history, and a bound on what a damaged row can make
    /// a read expand. A run may not end at <see cref="int.MaxValue"/> either: counting up to it would never end.
    /// </summary>
    public const int MaxRun = 10_000_000;

    /// <summary>
    /// Writes <paramref name="versions"/> as an array of runs, a run cut after <see cref="MaxRun"/> versions: one pass over
    /// its runs, whatever the number of versions.
    /// </summary>
    public static void Write(Utf8JsonWriter json, VersionSet versions)
    {
        json.WriteStartArray();
        foreach (var (first, last) in versions.Runs)
            for (var start = first; ; start += MaxRun)
            {
                var end = last - start >= MaxRun ? start + MaxRun - 1 : last;
                if (start == end) json.WriteNumberValue(start);
                else
                {
                    json.WriteStartArray();
                    json.WriteNumberValue(start);
                    json.WriteNumberValue(end);
                    json.WriteEndArray();
                }
                if (end == last) break;
            }
        json.WriteEndArray();
    }

    /// <summary>
    /// Reads the array <paramref name="reader"/> is on (its <see cref="JsonTokenType.StartArray"/>) into
    /// <paramref name="versions"/>, run by run. Reads a plain list of numbers too (the form stored before runs, and the
    /// wire's), in any order. A version must be at least 1; a run must name two versions, the first at least 1 and not
    /// above the last, and come above every version read before it.
    /// </summary>
    public static void Read(ref Utf8JsonReader reader, VersionSet versions)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("Stored versions are not an array.");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Number)
            {
                if (!reader.TryGetInt32(out var version) || version < 1) throw new JsonException("A stored version is not a number from 1.");
                versions.Add(version);
                continue;
            }
            var (first, last) = ReadRun(ref reader);
            if (versions.Count > 0 && first <= versions[^1])
                throw new JsonException("Stored runs of versions are not ascending.");
            versions.AddRun(first, last);
        }
    }

    /// <summary>The run <paramref name="reader"/> is on (its <see cref="JsonTokenType.StartArray"/>); leaves it on the run's end.</summary>
    public static (int First, int Last) ReadRun(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray
            || !reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var first)
            || !reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var last)
            || !reader.Read() || reader.TokenType != JsonTokenType.EndArray
            || first < 1 || last < first || last - first >= MaxRun || last == int.MaxValue)
            throw new JsonException($"A stored run of versions is not [first, last] with 1 <= first <= last and at most {MaxRun:N0} versions.");
        return (first, last);
    }

    /// <summary>
    /// A stored model view (JSON) with its versions by stage spelled as views written before runs spell them: every
    /// version listed.
    /// </summary>
    public static string Listed(string storedView)
    {
        var view = JsonNode.Parse(storedView, documentOptions: new JsonDocumentOptions { MaxDepth = Audit.CanonicalInput.StoredMaxDepth })!.AsObject();
        if (view["versionsByStage"] is JsonObject stages)
            foreach (var (stage, runs) in stages.ToList())
                stages[stage] = JsonSerializer.SerializeToNode(runs.Deserialize<VersionSet>()); // VersionSet's own converter: read as runs, listed
        return view.ToJsonString();
    }

    /// <summary>
    /// For the event store's serializer only: <see cref="ModelView.VersionsByStage"/> is written as runs and read in
    /// either form. The view is rewritten at every command on its model, so its size is paid at every command: with a
    /// number per version, a model with 2,000 versions wrote (and read back, and compressed, and logged) about 24 KB of
    /// jsonb per command. The wire and the snapshots keep listing every version.
    /// </summary>
    public static void StoreModelViewStagesAsRuns(JsonTypeInfo info)
    {
        if (info.Type != typeof(ModelView)) return;
        foreach (var property in info.Properties)
            if (property.Name == "versionsByStage" || property.Name == nameof(ModelView.VersionsByStage))
                property.CustomConverter = StagesAsRuns.Instance;
    }

    /// <summary>Adds <see cref="StoreModelViewStagesAsRuns"/> to the options' resolver.</summary>
    public static void StoreModelViewStagesAsRuns(JsonSerializerOptions options) =>
        options.TypeInfoResolver = (options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver())
            .WithAddedModifier(StoreModelViewStagesAsRuns);

    private sealed class StagesAsRuns : JsonConverter<Dictionary<string, VersionSet>>
    {
        public static readonly StagesAsRuns Instance = new();

        public override Dictionary<string, VersionSet> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("Stored versions by stage are not an object.");
            var stages = new Dictionary<string, VersionSet>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var stage = reader.GetString()!;
                reader.Read();
                var versions = new VersionSet();
                VersionRuns.Read(ref reader, versions);
                stages[stage] = versions;
            }
            return stages;
        }

        public override void Write(Utf8JsonWriter writer, Dictionary<string, VersionSet> value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            foreach (var (stage, versions) in value)
            {
                writer.WritePropertyName(stage);
                VersionRuns.Write(writer, versions);
            }
            writer.WriteEndObject();
        }
    }
}
