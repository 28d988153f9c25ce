namespace EventSourcedRegistry.Mlflow.Search;

public enum SortField
{
    Name,
    VersionNumber,
    CreationTimestamp,
    LastUpdatedTimestamp,
}

public sealed record SortKey(SortField Field, bool Ascending)
{
    public override string ToString() => $"{SearchOrder.FieldName(Field)} {(Ascending ? "ASC" : "DESC")}";
}

/// <summary>
/// MLflow's <c>order_by</c>: each entry is <c>"&lt;key&gt; [ASC|DESC]"</c> (ascending when left out); a field may
/// appear once. The result ends with MLflow's tie-breakers, so it orders every result completely: <c>name ASC</c>
/// (models), then <c>version_number DESC</c> (versions), each added unless the request already orders by it.
/// </summary>
public static class SearchOrder
{
    /// <summary>More entries than fields is always a duplicate; refused before reading them.</summary>
    public const int MaxEntries = 8;

    public static bool TryParse(IReadOnlyList<string?>? orderBy, SearchEntity entity, out IReadOnlyList<SortKey> keys, out SearchProblem? problem)
    {
        var result = new List<SortKey>();
        keys = result;
        problem = null;
        orderBy ??= [];
        if (orderBy.Count > MaxEntries)
        {
            problem = new SearchProblem($"`order_by` has {orderBy.Count} entries; there are at most {MaxEntries}.");
            return false;
        }
        foreach (var entry in orderBy)
        {
            if (!TryParseOne(entry ?? "", entity, out var key, out var error))
            {
                problem = new SearchProblem(error!);
                return false;
            }
            if (result.Any(k => k.Field == key!.Field))
            {
                problem = new SearchProblem($"`order_by` contains duplicate fields: [{string.Join(", ", orderBy.Select(o => $"'{SearchProblem.Shorten(o ?? "")}'"))}]");
                return false;
            }
            result.Add(key!);
        }
        if (!result.Any(k => k.Field == SortField.Name)) result.Add(new SortKey(SortField.Name, true));
        if (entity == SearchEntity.ModelVersions && !result.Any(k => k.Field == SortField.VersionNumber))
            result.Add(new SortKey(SortField.VersionNumber, false));
        return true;
    }

    private static bool TryParseOne(string entry, SearchEntity entity, out SortKey? key, out string? error)
    {
        key = null;
        error = null;
        if (entry.Length > 200 || entry.Contains('\0'))
        {
            error = $"Invalid order_by clause '{SearchProblem.Shorten(entry)}'. Could not be parsed.";
            return false;
        }
        var parts = entry.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2)
        {
            error = $"Invalid order_by clause '{entry}'. Could not be parsed.";
            return false;
        }
        var ascending = true;
        if (parts.Length == 2)
        {
            if (parts[1].Equals("asc", StringComparison.OrdinalIgnoreCase)) ascending = true;
            else if (parts[1].Equals("desc", StringComparison.OrdinalIgnoreCase)) ascending = false;
            else
            {
                error = $"Invalid ordering key in order_by clause '{entry}'.";
                return false;
            }
        }
        // MLflow reads a backticked key as a quoted one.
        var name = parts[0].Length >= 2 && parts[0][0] is '`' or '"' && parts[0][^1] == parts[0][0] ? parts[0][1..^1] : parts[0];
        SortField? field = (entity, name) switch
        {
            (_, "name") => SortField.Name,
            (_, "creation_timestamp") => SortField.CreationTimestamp,
            (_, "last_updated_timestamp") => SortField.LastUpdatedTimestamp,
            // MLflow's stores read the model key "timestamp" as the last update.
            (SearchEntity.RegisteredModels, "timestamp") => SortField.LastUpdatedTimestamp,
            (SearchEntity.ModelVersions, "version_number") => SortField.VersionNumber,
            _ => null,
        };
        if (field is null)
        {
            error = entity == SearchEntity.RegisteredModels
                ? $"Invalid order by key '{name}' specified. Valid keys are '{{'timestamp', 'name'}}'"
                : $"Invalid order by key '{name}' specified. Valid keys are '{{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}}'";
            return false;
        }
        key = new SortKey(field.Value, ascending);
        return true;
    }

    public static string FieldName(SortField field) => field switch
    {
        SortField.Name => "name",
        SortField.VersionNumber => "version_number",
        SortField.CreationTimestamp => "creation_timestamp",
        SortField.LastUpdatedTimestamp => "last_updated_timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };
}
