using System.Text;

namespace EventSourcedRegistry.Mlflow.Search;

/// <summary>
/// The SQL expressions a search reads, so the translation fits whatever query the endpoint builds. Text columns are
/// <c>text</c>; <see cref="Tags"/> and <see cref="ModelTags"/> are <c>jsonb</c> objects of strings; numbers are
/// integers. The defaults read the inline Marten views (camel-cased JSON in <c>data</c>); the timestamps name the fields
/// the MLflow views are expected to add (<c>creationTimestamp</c>, <c>lastUpdatedTimestamp</c>, epoch milliseconds).
/// </summary>
public sealed record SearchColumns(
    string Name,
    string NormalizedName,
    string Tags,
    string CreationTimestamp,
    string LastUpdatedTimestamp,
    string? VersionNumber = null,
    string? RunId = null,
    string? Source = null,
    string? ModelTags = null)
{
    /// <summary>A model view row aliased <paramref name="model"/> (<c>registry.mt_doc_modelview</c>).</summary>
    public static SearchColumns Models(string model = "d") => new(
        Name: $"({model}.data ->> 'name')",
        NormalizedName: $"{model}.normalized_name",
        Tags: $"({model}.data -> 'tags')",
        CreationTimestamp: $"(({model}.data ->> 'creationTimestamp')::bigint)",
        LastUpdatedTimestamp: $"(({model}.data ->> 'lastUpdatedTimestamp')::bigint)");

    /// <summary>
    /// A version view row aliased <paramref name="version"/> joined to its model's view aliased <paramref name="model"/>
    /// (on tenant and <c>model_id</c>): the version's name and prompt marker are its model's.
    /// </summary>
    public static SearchColumns Versions(string version = "v", string model = "m") => new(
        Name: $"({model}.data ->> 'name')",
        NormalizedName: $"{model}.normalized_name",
        Tags: $"({version}.data -> 'tags')",
        CreationTimestamp: $"(({version}.data ->> 'creationTimestamp')::bigint)",
        LastUpdatedTimestamp: $"(({version}.data ->> 'lastUpdatedTimestamp')::bigint)",
        VersionNumber: $"(({version}.data ->> 'versionNumber')::int)",
        RunId: $"({version}.data -> 'lineage' ->> 'runId')",
        Source: $"({version}.data -> 'artifact' ->> 'uri')",
        ModelTags: $"({model}.data -> 'tags')");
}

/// <summary>
/// A WHERE or ORDER BY fragment with <c>?</c> placeholders (Marten's <c>QueryAsync(sql, parameters)</c>) and their
/// values, in order. Values never enter the SQL text.
/// </summary>
public sealed record SqlFragment(string Sql, IReadOnlyList<object> Parameters);

/// <summary>
/// Translates a parsed search into PostgreSQL, clause by clause, with the semantics of <see cref="SearchEvaluator"/>:
/// a missing tag or attribute reads as SQL NULL, so its comparison is not true (the prompt tag's exception is spelled
/// out); LIKE runs with <c>escape ''</c> (ILIKE as LIKE over ASCII-lower-cased text, see <see cref="SearchEvaluator.AsciiLower"/>), so <c>%</c> and <c>_</c> are MLflow's wildcards and a backslash is
/// an ordinary character (PostgreSQL's default escape is a backslash; MLflow has none). Name order and page positions
/// use the indexed <c>normalized_name</c>.
/// </summary>
public static class SearchSql
{
    /// <summary>The filter as one condition (<c>true</c> when it has no clause). Does not include the workspace's tenant.</summary>
    public static SqlFragment Where(SearchFilter filter, SearchColumns columns)
    {
        var parts = new List<string>();
        var parameters = new List<object>();
        if (filter.Entity == SearchEntity.ModelVersions && !filter.QueriesPrompts)
        {
            var modelTags = columns.ModelTags ?? columns.Tags;
            parts.Add($"coalesce({AsciiLower($"{modelTags} ->> ?")}, '') <> 'true'");
            parameters.Add(SearchFilter.IsPromptTag);
        }
        foreach (var clause in filter.Clauses) parts.Add(Clause(clause, columns, parameters));
        return new SqlFragment(parts.Count == 0 ? "true" : string.Join(" and ", parts), parameters);
    }

    /// <summary>
    /// The first <c>tags.k = 'v'</c> clause of a model search (the prompt tag aside), if any: a query can drive from the
    /// <c>model_tags</c> pair-hash index with it (see <c>ModelTagIndex</c>) instead of testing every view's tags; the
    /// <see cref="Where"/> condition still decides.
    /// </summary>
    public static (string Key, string Value)? IndexableTag(SearchFilter filter)
    {
        foreach (var clause in filter.Clauses)
            if (clause is { Field: FilterField.Tag { Key: var key }, Comparator: Comparator.Equal, Value: FilterValue.Text { Value: var value } }
                && key != SearchFilter.IsPromptTag)
                return (key, value);
        return null;
    }

    private static string Clause(FilterClause clause, SearchColumns columns, List<object> parameters)
    {
        switch (clause.Field)
        {
            case FilterField.Tag { Key: var key }:
            {
                var text = ((FilterValue.Text)clause.Value).Value;
                parameters.Add(key);
                var condition = TextCondition($"({columns.Tags} ->> ?)", clause.Comparator, clause.Value, parameters);
                var missingMatches = key == SearchFilter.IsPromptTag
                                     && ((clause.Comparator == Comparator.Equal && text == "false") || (clause.Comparator == Comparator.NotEqual && text == "true"));
                if (!missingMatches) return condition;
                // Not a tag join: a model without the prompt tag is not a prompt (MLflow's client appends this clause to every model search).
                parameters.Add(key);
                return $"({condition} or not jsonb_exists(coalesce({columns.Tags}, '{{}}'::jsonb), ?))";
            }
            case FilterField.Attribute { Which: FilterAttribute.VersionNumber }:
            {
                var version = columns.VersionNumber ?? throw new InvalidOperationException("These columns have no version number.");
                if (SearchEvaluator.AsNumber(clause.Value) is not { } number)
                {
                    // A quoted non-number ranks above every number (SearchEvaluator): a constant, for versions that exist.
                    var holds = clause.Comparator is Comparator.NotEqual or Comparator.Less or Comparator.LessOrEqual;
                    return $"({version} is not null and {(holds ? "true" : "false")})";
                }
                parameters.Add(number);
                return $"{version} {Operator(clause.Comparator)} ?";
            }
            case FilterField.Attribute { Which: FilterAttribute.Name }:
                if (clause.Comparator == Comparator.Equal && clause.Value is FilterValue.Text equal)
                {
                    // The normalized name's index finds the row; the exact name decides (MLflow's = is case-sensitive).
                    parameters.Add(Validation.InputRules.NormalizeName(equal.Value));
                    parameters.Add(equal.Value);
                    return $"({columns.NormalizedName} = ? and {columns.Name} = ?)";
                }
                if (clause.Comparator == Comparator.Like && clause.Value is FilterValue.Text like && LiteralPrefix(like.Value) is { Length: > 0 } prefix)
                {
                    // A pattern that starts with literal text starts every match with it, lower-cased too: a range of
                    // the normalized name index (the pattern index serves the like), checked exactly after.
                    var normalized = Validation.InputRules.NormalizeName(prefix);
                    parameters.Add(normalized);
                    parameters.Add(EscapeLike(normalized) + "%");
                    var exact = TextCondition(columns.Name, clause.Comparator, clause.Value, parameters);
                    return $"({columns.NormalizedName} >= ? and {columns.NormalizedName} like ? escape '\\' and {exact})";
                }
                return TextCondition(columns.Name, clause.Comparator, clause.Value, parameters);
            case FilterField.Attribute { Which: FilterAttribute.RunId }:
                return TextCondition(columns.RunId ?? throw new InvalidOperationException("These columns have no run id."), clause.Comparator, clause.Value, parameters);
            case FilterField.Attribute { Which: FilterAttribute.SourcePath }:
                return TextCondition(columns.Source ?? throw new InvalidOperationException("These columns have no source."), clause.Comparator, clause.Value, parameters);
            default:
                throw new InvalidOperationException("Unknown filter field.");
        }
    }

    private static string TextCondition(string column, Comparator comparator, FilterValue value, List<object> parameters)
    {
        switch (value)
        {
            case FilterValue.List list:
                parameters.Add(list.Values.ToArray());
                return $"{column} = any(?)";
            case FilterValue.Text text:
                parameters.Add(comparator == Comparator.ILike ? SearchEvaluator.AsciiLower(text.Value) : text.Value);
                return comparator switch
                {
                    Comparator.Equal => $"{column} = ?",
                    Comparator.NotEqual => $"{column} <> ?",
                    Comparator.Like => $"{column} like ? escape ''",
                    Comparator.ILike => $"{AsciiLower(column)} like ? escape ''",
                    _ => throw new InvalidOperationException($"No text comparison {comparator}."),
                };
            default:
                throw new InvalidOperationException("A text attribute compares with text.");
        }
    }

    private static string Operator(Comparator comparator) => comparator switch
    {
        Comparator.Equal => "=",
        Comparator.NotEqual => "<>",
        Comparator.Less => "<",
        Comparator.LessOrEqual => "<=",
        Comparator.Greater => ">",
        Comparator.GreaterOrEqual => ">=",
        _ => throw new InvalidOperationException($"No numeric comparison {comparator}."),
    };

    /// <summary>The ORDER BY list (without the keyword) for complete sort keys (<see cref="SearchOrder"/>).</summary>
    public static string OrderBy(IReadOnlyList<SortKey> keys, SearchColumns columns) =>
        string.Join(", ", keys.Select(key => $"{Expression(key.Field, columns)} {(key.Ascending ? "asc" : "desc")}"));

    /// <summary>
    /// The rows after a page token's position in the order of <paramref name="keys"/>: keyset paging, so a deep page
    /// costs what the first does. Spelled out per key (a row comparison cannot mix directions):
    /// k1 after v1, or k1 = v1 and k2 after v2, and so on.
    /// </summary>
    public static SqlFragment After(IReadOnlyList<SortKey> keys, IReadOnlyList<object> after, SearchColumns columns)
    {
        if (after.Count != keys.Count) throw new ArgumentException("A position has one value per sort key.", nameof(after));
        var alternatives = new List<string>();
        var parameters = new List<object>();
        for (var i = 0; i < keys.Count; i++)
        {
            var terms = new StringBuilder();
            for (var j = 0; j < i; j++)
            {
                terms.Append($"{Expression(keys[j].Field, columns)} = ? and ");
                parameters.Add(after[j]);
            }
            terms.Append($"{Expression(keys[i].Field, columns)} {(keys[i].Ascending ? ">" : "<")} ?");
            parameters.Add(after[i]);
            alternatives.Add($"({terms})");
        }
        return new SqlFragment("(" + string.Join(" or ", alternatives) + ")", parameters);
    }

    private static string Expression(SortField field, SearchColumns columns) => field switch
    {
        SortField.Name => columns.NormalizedName,
        SortField.VersionNumber => $"coalesce({columns.VersionNumber ?? throw new InvalidOperationException("These columns have no version number.")}, 0)::bigint",
        SortField.CreationTimestamp => $"coalesce({columns.CreationTimestamp}, 0)",
        SortField.LastUpdatedTimestamp => $"coalesce({columns.LastUpdatedTimestamp}, 0)",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    /// <summary>
    /// ASCII letters lower-cased whatever the database's locale (ILIKE and lower() follow it, and under the C locale
    /// fold ASCII only): MLflow's reference server ignores the case of ASCII letters only.
    /// </summary>
    private static string AsciiLower(string expression) =>
        $"translate({expression}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";

    /// <summary>The text before a pattern's first wildcard.</summary>
    private static string LiteralPrefix(string pattern)
    {
        var end = pattern.IndexOfAny(['%', '_']);
        return end < 0 ? pattern : pattern[..end];
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
