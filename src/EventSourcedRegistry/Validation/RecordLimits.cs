namespace EventSourcedRegistry.Validation;

/// <summary>
/// <c>Registry:Limits</c>: how many tags, params, metrics and datasets one record may carry. Each command's record is
/// one event and one view document that every later read of the model or version loads, so an unbounded count is a
/// cost one contributor could impose on every reader. Over a cap the command is a 400 that names the cap.
/// </summary>
public sealed class RecordLimits
{
    public const string Section = "Registry:Limits";

    public int MaxTagsPerModel { get; set; } = 100;
    public int MaxTagsPerVersion { get; set; } = 100;
    public int MaxParamsPerVersion { get; set; } = 1000;
    public int MaxMetricsPerVersion { get; set; } = 1000;
    public int MaxDatasetsPerVersion { get; set; } = 100;

    /// <summary>Each cap must be at least 1; the message names the setting.</summary>
    public void Validate()
    {
        foreach (var (name, value) in Caps())
            if (value < 1) throw new InvalidOperationException($"{Section}:{name} must be at least 1.");
    }

    private IEnumerable<(string Name, int Value)> Caps() =>
    [
        (nameof(MaxTagsPerModel), MaxTagsPerModel), (nameof(MaxTagsPerVersion), MaxTagsPerVersion),
        (nameof(MaxParamsPerVersion), MaxParamsPerVersion), (nameof(MaxMetricsPerVersion), MaxMetricsPerVersion),
        (nameof(MaxDatasetsPerVersion), MaxDatasetsPerVersion),
    ];

    /// <summary>A new version's counts against the per-version caps.</summary>
    public IEnumerable<(string Field, string Error)> CheckVersion(int tags, int @params, int metrics, int datasets)
    {
        if (Over("tags", tags, MaxTagsPerVersion, nameof(MaxTagsPerVersion), "a version") is { } t) yield return t;
        if (Over("params", @params, MaxParamsPerVersion, nameof(MaxParamsPerVersion), "a version") is { } p) yield return p;
        if (Over("metrics", metrics, MaxMetricsPerVersion, nameof(MaxMetricsPerVersion), "a version") is { } m) yield return m;
        if (Over("lineage.datasets", datasets, MaxDatasetsPerVersion, nameof(MaxDatasetsPerVersion), "a version") is { } d) yield return d;
    }

    /// <summary>A new model's tags against the per-model cap.</summary>
    public (string Field, string Error)? CheckModelTags(int tags) =>
        Over("tags", tags, MaxTagsPerModel, nameof(MaxTagsPerModel), "a model");

    /// <summary>
    /// An edit's tags: refused when the record would hold more tags than the cap and more than it holds now, so an edit
    /// that removes tags from a record already over a lowered cap still goes through.
    /// </summary>
    public static (string Field, string Error)? CheckEditedTags(IReadOnlyDictionary<string, string> current,
        IReadOnlyDictionary<string, string>? set, IReadOnlyList<string>? remove, int cap, string capName, string what)
    {
        var after = new HashSet<string>(current.Keys, StringComparer.Ordinal);
        foreach (var key in remove ?? []) after.Remove(key);
        foreach (var key in (set ?? new Dictionary<string, string>()).Keys) after.Add(key);
        return after.Count > cap && after.Count > current.Count
            ? ("setTags", $"This edit would leave {what} with {after.Count} tags; {what} carries at most {cap} ({Section}:{capName}). Nothing was changed.")
            : null;
    }

    /// <summary>An edit over a cap as the command's 400, with the field under <c>errors</c> as a validation problem has it.</summary>
    public static Decision Refusal((string Field, string Error) over) =>
        Decision.Reject(RejectionKind.Invalid, "Too many tags", over.Error,
            new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [over.Field] = [over.Error] } });

    private static (string Field, string Error)? Over(string field, int count, int cap, string capName, string what) =>
        count > cap ? (field, $"{Capitalized(what)} carries at most {cap} {field.Split('.')[^1]} ({Section}:{capName}); this one has {count}.") : null;

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
