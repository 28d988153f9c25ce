using System.Globalization;
using System.Text;

namespace EventSourcedRegistry.Mlflow.Search;

/// <summary>
/// What a search filter and order read of a registered model or a model version. For a model, <see cref="Version"/>,
/// <see cref="RunId"/> and <see cref="Source"/> are null and <see cref="ModelTags"/> are its <see cref="Tags"/>; for a
/// version, <see cref="Name"/> and <see cref="ModelTags"/> are its model's.
/// </summary>
public sealed record SearchSubject(
    string Name,
    IReadOnlyDictionary<string, string> Tags,
    int? Version = null,
    string? RunId = null,
    string? Source = null,
    IReadOnlyDictionary<string, string>? ModelTags = null,
    long CreationTimestamp = 0,
    long LastUpdatedTimestamp = 0);

/// <summary>
/// MLflow's search semantics as a pure function, the reference the SQL translation (<see cref="SearchSql"/>) must
/// agree with:
/// <list type="bullet">
/// <item>every clause must hold; a clause on a tag or attribute the subject lacks does not hold, whatever the
/// comparator (<c>!=</c> included), except on <c>mlflow.prompt.is_prompt</c>, where a missing tag counts as not a prompt:
/// <c>!= 'true'</c> and <c>= 'false'</c> hold;</item>
/// <item><c>=</c>, <c>!=</c>, <c>IN</c> compare exactly; <c>LIKE</c> is case-sensitive with <c>%</c> (any run) and
/// <c>_</c> (one character) and no escape character; <c>ILIKE</c> is <c>LIKE</c> ignoring the case of ASCII letters
/// (as the reference server's SQLite does);</item>
/// <item><c>version_number</c> compares numerically; a quoted number is that number, and a quoted non-number ranks
/// above every number (as in the reference server's SQLite store: <c>version_number &gt; 'x'</c> matches nothing);</item>
/// <item>a version search leaves out the versions of prompts unless the filter asks for prompts
/// (<see cref="SearchFilter.QueriesPrompts"/>).</item>
/// </list>
/// </summary>
public static class SearchEvaluator
{
    public static bool Matches(SearchFilter filter, SearchSubject subject)
    {
        if (filter.Entity == SearchEntity.ModelVersions && !filter.QueriesPrompts && IsPrompt(subject.ModelTags ?? subject.Tags))
            return false;
        foreach (var clause in filter.Clauses)
            if (!Holds(clause, subject)) return false;
        return true;
    }

    public static bool IsPrompt(IReadOnlyDictionary<string, string> modelTags) =>
        modelTags.TryGetValue(SearchFilter.IsPromptTag, out var value) && AsciiLower(value) == "true";

    /// <summary>
    /// Lower-cases A to Z only. MLflow's reference server (SQLite) ignores case for ASCII letters only, and so does
    /// <see cref="SearchSql"/>, on any database locale.
    /// </summary>
    public static string AsciiLower(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++) span[i] = char.IsAsciiLetterUpper(source[i]) ? (char)(source[i] + 32) : source[i];
    });

    public static bool Holds(FilterClause clause, SearchSubject subject)
    {
        switch (clause.Field)
        {
            case FilterField.Tag { Key: var key }:
                var text = ((FilterValue.Text)clause.Value).Value;
                if (!subject.Tags.TryGetValue(key, out var tag))
                    return key == SearchFilter.IsPromptTag
                           && ((clause.Comparator == Comparator.Equal && text == "false") || (clause.Comparator == Comparator.NotEqual && text == "true"));
                return CompareText(tag, clause.Comparator, clause.Value);
            case FilterField.Attribute { Which: FilterAttribute.VersionNumber }:
                return subject.Version is { } version && CompareNumber(version, clause.Comparator, clause.Value);
            case FilterField.Attribute { Which: var attribute }:
                var actual = attribute switch
                {
                    FilterAttribute.Name => subject.Name,
                    FilterAttribute.RunId => subject.RunId,
                    FilterAttribute.SourcePath => subject.Source,
                    _ => null,
                };
                return actual is not null && CompareText(actual, clause.Comparator, clause.Value);
            default:
                return false;
        }
    }

    private static bool CompareText(string actual, Comparator comparator, FilterValue value) => (comparator, value) switch
    {
        (Comparator.Equal, FilterValue.Text t) => string.Equals(actual, t.Value, StringComparison.Ordinal),
        (Comparator.NotEqual, FilterValue.Text t) => !string.Equals(actual, t.Value, StringComparison.Ordinal),
        (Comparator.Like, FilterValue.Text t) => Like(actual, t.Value, ignoreCase: false),
        (Comparator.ILike, FilterValue.Text t) => Like(actual, t.Value, ignoreCase: true),
        (Comparator.In, FilterValue.List l) => l.Values.Contains(actual, StringComparer.Ordinal),
        _ => false,
    };

    private static bool CompareNumber(int actual, Comparator comparator, FilterValue value)
    {
        int order;
        if (AsNumber(value) is { } number) order = ((decimal)actual).CompareTo(number);
        else order = -1; // a non-numeric text ranks above every number
        return comparator switch
        {
            Comparator.Equal => order == 0,
            Comparator.NotEqual => order != 0,
            Comparator.Less => order < 0,
            Comparator.LessOrEqual => order <= 0,
            Comparator.Greater => order > 0,
            Comparator.GreaterOrEqual => order >= 0,
            _ => false,
        };
    }

    /// <summary>The number a <c>version_number</c> value stands for; null for a quoted non-number.</summary>
    public static decimal? AsNumber(FilterValue value) => value switch
    {
        FilterValue.Number n => n.Value,
        FilterValue.Text t when decimal.TryParse(t.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    /// <summary>
    /// SQL LIKE over Unicode characters (code points, as PostgreSQL counts them): <c>%</c> any run, <c>_</c> one
    /// character, everything else literal; <paramref name="ignoreCase"/> for ILIKE (ASCII letters, see
    /// <see cref="AsciiLower"/>). Greedy with one backtrack point, so it runs in O(text × pattern) at worst.
    /// </summary>
    public static bool Like(string text, string pattern, bool ignoreCase)
    {
        var s = Runes(ignoreCase ? AsciiLower(text) : text);
        var p = Runes(ignoreCase ? AsciiLower(pattern) : pattern);
        int si = 0, pi = 0, star = -1, resume = 0;
        while (si < s.Length)
        {
            if (pi < p.Length && p[pi] == '%')
            {
                star = pi++;
                resume = si;
            }
            else if (pi < p.Length && (p[pi] == '_' || p[pi] == s[si]))
            {
                pi++;
                si++;
            }
            else if (star >= 0)
            {
                pi = star + 1;
                si = ++resume;
            }
            else return false;
        }
        while (pi < p.Length && p[pi] == '%') pi++;
        return pi == p.Length;
    }

    private static int[] Runes(string text)
    {
        var runes = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes()) runes.Add(rune.Value);
        return [.. runes];
    }

    /// <summary>The values a subject has for each sort key: what a page token remembers of a page's last row.</summary>
    public static IReadOnlyList<object> SortValues(SearchSubject subject, IReadOnlyList<SortKey> keys) =>
        keys.Select(key => key.Field switch
        {
            SortField.Name => (object)Validation.InputRules.NormalizeName(subject.Name),
            SortField.VersionNumber => (long)(subject.Version ?? 0),
            SortField.CreationTimestamp => subject.CreationTimestamp,
            SortField.LastUpdatedTimestamp => subject.LastUpdatedTimestamp,
            _ => throw new ArgumentOutOfRangeException(nameof(keys)),
        }).ToList();

    /// <summary>
    /// Orders sort values by the keys. Names compare as their normalized (lower-case) spelling in code point order, as
    /// the indexed <c>normalized_name</c> column does under the C collation.
    /// </summary>
    public static int Compare(IReadOnlyList<object> left, IReadOnlyList<object> right, IReadOnlyList<SortKey> keys)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            var order = (left[i], right[i]) switch
            {
                (string a, string b) => CompareCodePoints(a, b),
                (long a, long b) => a.CompareTo(b),
                _ => throw new ArgumentException("Sort values do not fit their keys."),
            };
            if (order != 0) return keys[i].Ascending ? order : -order;
        }
        return 0;
    }

    public static int CompareCodePoints(string a, string b)
    {
        var left = a.EnumerateRunes();
        var right = b.EnumerateRunes();
        while (true)
        {
            var hasLeft = left.MoveNext();
            var hasRight = right.MoveNext();
            if (!hasLeft || !hasRight) return hasLeft.CompareTo(hasRight);
            var order = left.Current.Value.CompareTo(right.Current.Value);
            if (order != 0) return order;
        }
    }

    /// <summary>
    /// The whole search in memory: filter, order, then the page after <paramref name="after"/> (a page token's
    /// position), at most <paramref name="maxResults"/> long. The reference for tests; the server runs SQL.
    /// </summary>
    public static IReadOnlyList<SearchSubject> Search(IEnumerable<SearchSubject> subjects, SearchFilter filter,
        IReadOnlyList<SortKey> keys, IReadOnlyList<object>? after, int maxResults) =>
        subjects.Where(s => Matches(filter, s))
            .Select(s => (Subject: s, Values: SortValues(s, keys)))
            .Where(s => after is null || Compare(s.Values, after, keys) > 0)
            .OrderBy(s => s.Values, Comparer<IReadOnlyList<object>>.Create((a, b) => Compare(a, b, keys)))
            .Take(maxResults)
            .Select(s => s.Subject)
            .ToList();
}
