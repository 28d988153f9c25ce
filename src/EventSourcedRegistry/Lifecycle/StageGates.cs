using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Lifecycle;

/// <summary>
/// Bound from <c>Registry:Lifecycle:Gates:&lt;stage&gt;</c>: what a version must carry to enter that stage.
/// Every list is optional; a stage without gates admits any version the lifecycle graph lets in.
/// </summary>
public sealed class StageGateOptions
{
    /// <summary>Lineage fields that must be set: <c>runId</c>, <c>sourceRepository</c>, <c>sourceCommit</c>, <c>datasets</c>.</summary>
    public string[]? Lineage { get; set; }

    /// <summary>Metric requirements, each <c>"&lt;metric&gt; &lt;op&gt; &lt;number&gt;"</c> with op one of <c>&gt;= &gt; &lt;= &lt; ==</c>, e.g. <c>"auc &gt;= 0.8"</c>.</summary>
    public string[]? Metrics { get; set; }

    /// <summary>Keys the version's free metadata must hold (non-null): a top-level key, or a JSON Pointer such as <c>/training/dataset</c>.</summary>
    public string[]? Metadata { get; set; }

    /// <summary>Tag keys the version must carry (tags are separate from metadata and do not satisfy <see cref="Metadata"/>).</summary>
    public string[]? Tags { get; set; }
}

/// <summary>One requirement a version does not meet. Kind is <c>lineage</c>, <c>metric</c>, <c>metadata</c> or <c>tag</c>.</summary>
public sealed record UnmetGate(string Kind, string Requirement, string Detail);

/// <summary>A metric threshold: <c>auc &gt;= 0.8</c>.</summary>
public sealed record MetricGate(string Metric, string Operator, double Threshold)
{
    public bool IsMetBy(double value) => Operator switch
    {
        ">=" => value >= Threshold,
        ">" => value > Threshold,
        "<=" => value <= Threshold,
        "<" => value < Threshold,
        "==" => value == Threshold,
        _ => false,
    };

    public override string ToString() => $"{Metric} {Operator} {Threshold.ToString("R", CultureInfo.InvariantCulture)}";
}

/// <summary>The gates of one stage, parsed and checked once at startup.</summary>
public sealed record StageGate(string Stage, IReadOnlyList<string> Lineage, IReadOnlyList<MetricGate> Metrics,
    IReadOnlyList<string> Metadata, IReadOnlyList<string> Tags)
{
    public bool IsEmpty => Lineage.Count == 0 && Metrics.Count == 0 && Metadata.Count == 0 && Tags.Count == 0;
}

/// <summary>
/// Stage policy: what a version must carry to enter a stage. <see cref="Check"/> is a pure function of the gate and the
/// version's view, so every path that moves a version into a stage (a promotion, an approved request) checks the same rules.
/// </summary>
public static class StageGates
{
    public const string LineageKind = "lineage";
    public const string MetricKind = "metric";
    public const string MetadataKind = "metadata";
    public const string TagKind = "tag";

    /// <summary>The lineage fields a gate may require, in their API spelling.</summary>
    public static readonly IReadOnlyList<string> LineageFields = ["runId", "sourceRepository", "sourceCommit", "datasets"];

    private static readonly Regex MetricPattern =
        new(@"^\s*(?<metric>.+?)\s*(?<op>>=|<=|==|>|<)\s*(?<value>[^\s<>=]+)\s*$", RegexOptions.CultureInvariant);

    /// <summary>Every requirement of <paramref name="gate"/> that <paramref name="version"/> does not meet; empty when it may enter.</summary>
    public static IReadOnlyList<UnmetGate> Check(StageGate? gate, ModelVersionView version)
    {
        if (gate is null || gate.IsEmpty) return [];
        var unmet = new List<UnmetGate>();
        var stage = gate.Stage;

        foreach (var field in gate.Lineage)
        {
            if (!HasLineage(version.Lineage, field))
                unmet.Add(new UnmetGate(LineageKind, field,
                    $"{stage} requires lineage.{field}, and version {version.VersionNumber} has none."));
        }

        foreach (var metric in gate.Metrics)
        {
            if (!version.Metrics.TryGetValue(metric.Metric, out var value))
                unmet.Add(new UnmetGate(MetricKind, metric.ToString(),
                    $"{stage} requires {metric}, and version {version.VersionNumber} has no metric '{metric.Metric}'."));
            else if (!metric.IsMetBy(value))
                unmet.Add(new UnmetGate(MetricKind, metric.ToString(),
                    $"{stage} requires {metric}, and version {version.VersionNumber} has {metric.Metric} = {value.ToString("R", CultureInfo.InvariantCulture)}."));
        }

        foreach (var key in gate.Metadata)
        {
            if (!HasMetadata(version.Metadata, key))
                unmet.Add(new UnmetGate(MetadataKind, key,
                    $"{stage} requires metadata key '{key}', and version {version.VersionNumber}'s metadata does not have it."));
        }

        foreach (var tag in gate.Tags)
        {
            if (!version.Tags.TryGetValue(tag, out var value) || string.IsNullOrWhiteSpace(value))
                unmet.Add(new UnmetGate(TagKind, tag,
                    $"{stage} requires tag '{tag}', and version {version.VersionNumber} does not carry it."));
        }

        return unmet;
    }

    /// <summary>
    /// Parses the gates of every configured stage, throwing one clear message for each mistake found
    /// (all of them at once, so an operator fixes the configuration in one go).
    /// </summary>
    public static Dictionary<string, StageGate> From(Dictionary<string, StageGateOptions>? options,
        IReadOnlyList<string> stages, string initialStage, string section)
    {
        var gates = new Dictionary<string, StageGate>(StringComparer.OrdinalIgnoreCase);
        if (options is not { Count: > 0 }) return gates;

        var problems = new List<string>();
        foreach (var (name, gate) in options)
        {
            var stage = stages.FirstOrDefault(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase));
            if (stage is null)
            {
                problems.Add($"{section}:Gates:{name} names a stage that does not exist (the stages are {string.Join(", ", stages)}).");
                continue;
            }
            if (string.Equals(stage, initialStage, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{section}:Gates:{name}: {stage} is the initial stage, which versions enter at registration without a transition; gate a later stage instead.");
                continue;
            }
            if (gates.ContainsKey(stage))
            {
                problems.Add($"{section}:Gates lists stage {stage} twice.");
                continue;
            }

            var lineage = new List<string>();
            foreach (var field in Entries(gate?.Lineage))
            {
                var known = LineageFields.FirstOrDefault(f => string.Equals(f, field, StringComparison.OrdinalIgnoreCase));
                if (known is null)
                    problems.Add($"{section}:Gates:{stage}:Lineage names '{field}', which is not a lineage field (one of {string.Join(", ", LineageFields)}).");
                else if (!lineage.Contains(known)) lineage.Add(known);
            }

            var metrics = new List<MetricGate>();
            foreach (var expression in Entries(gate?.Metrics))
            {
                if (ParseMetric(expression) is { } metric) metrics.Add(metric);
                else
                    problems.Add($"{section}:Gates:{stage}:Metrics has '{expression}', which is not '<metric> <op> <number>' " +
                                 "with op one of >=, >, <=, <, == (for example 'auc >= 0.8').");
            }

            var metadata = new List<string>();
            foreach (var key in Entries(gate?.Metadata))
            {
                if (key.StartsWith('/') && key.Length == 1)
                    problems.Add($"{section}:Gates:{stage}:Metadata has '/', which names no key.");
                else if (!metadata.Contains(key)) metadata.Add(key);
            }

            var tags = Entries(gate?.Tags).Distinct().ToList();
            gates[stage] = new StageGate(stage, lineage, metrics, metadata, tags);
        }

        if (problems.Count > 0) throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        return gates;
    }

    /// <summary>Parses <c>"auc &gt;= 0.8"</c>; null when the text is not a metric requirement.</summary>
    public static MetricGate? ParseMetric(string expression)
    {
        var match = MetricPattern.Match(expression);
        if (!match.Success) return null;
        if (!double.TryParse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var threshold)
            || !double.IsFinite(threshold)) return null;
        return new MetricGate(match.Groups["metric"].Value, match.Groups["op"].Value, threshold);
    }

    private static IEnumerable<string> Entries(string[]? values) =>
        (values ?? []).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim());

    private static bool HasLineage(Lineage? lineage, string field) => field switch
    {
        "runId" => !string.IsNullOrWhiteSpace(lineage?.RunId),
        "sourceRepository" => !string.IsNullOrWhiteSpace(lineage?.SourceRepository),
        "sourceCommit" => !string.IsNullOrWhiteSpace(lineage?.SourceCommit),
        "datasets" => lineage?.Datasets is { Count: > 0 },
        _ => false,
    };

    /// <summary>A top-level key, or a JSON Pointer (RFC 6901) into nested objects and arrays; a null value counts as absent.</summary>
    private static bool HasMetadata(JsonElement? metadata, string key)
    {
        if (metadata is not { ValueKind: JsonValueKind.Object } current) return false;
        IEnumerable<string> path = key.StartsWith('/')
            ? key[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~"))
            : [key];
        foreach (var token in path)
        {
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var child)) current = child;
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                     && index < current.GetArrayLength()) current = current[index];
            else return false;
        }
        return current.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
    }
}
