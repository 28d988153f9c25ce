using System.Globalization;
using System.Text;

namespace EventSourcedRegistry.Mlflow.Search;

/// <summary>What an MLflow search looks for: <c>registered-models/search</c> or <c>model-versions/search</c>.</summary>
public enum SearchEntity
{
    RegisteredModels,
    ModelVersions,
}

/// <summary>The attributes MLflow lets a filter name (registered models: <see cref="Name"/> only).</summary>
public enum FilterAttribute
{
    /// <summary>The registered model's name (for a version: its model's name).</summary>
    Name,
    VersionNumber,
    RunId,
    /// <summary>The version's <c>source</c>.</summary>
    SourcePath,
}

public enum Comparator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Like,
    ILike,
    In,
}

/// <summary>The left side of a clause: an attribute or a tag.</summary>
public abstract record FilterField
{
    public sealed record Attribute(FilterAttribute Which) : FilterField;

    public sealed record Tag(string Key) : FilterField;
}

/// <summary>The right side of a clause.</summary>
public abstract record FilterValue
{
    /// <summary>A quoted string, taken verbatim between its quotes (as MLflow does: no escapes are undone).</summary>
    public sealed record Text(string Value) : FilterValue;

    /// <summary>An unquoted number; only <c>version_number</c> takes one.</summary>
    public sealed record Number(decimal Value) : FilterValue;

    /// <summary>A parenthesised list of quoted strings, for <c>run_id IN (…)</c>.</summary>
    public sealed record List(IReadOnlyList<string> Values) : FilterValue
    {
        public bool Equals(List? other) => other is not null && Values.SequenceEqual(other.Values);
        public override int GetHashCode() => Values.Count;
    }
}

public sealed record FilterClause(FilterField Field, Comparator Comparator, FilterValue Value);

/// <summary>
/// A parsed MLflow filter: clauses that must all hold (MLflow has no OR). Build one with <see cref="FilterParser"/>;
/// <see cref="ToString"/> prints it back in a form the parser reads to the same filter.
/// </summary>
public sealed record SearchFilter(SearchEntity Entity, IReadOnlyList<FilterClause> Clauses)
{
    /// <summary>The tag that marks a registered model as a prompt; MLflow's client excludes prompts from every model search.</summary>
    public const string IsPromptTag = "mlflow.prompt.is_prompt";

    public static SearchFilter Empty(SearchEntity entity) => new(entity, []);

    /// <summary>
    /// Whether the filter asks for prompts (its first clause on <see cref="IsPromptTag"/> is <c>= 'true'</c> or
    /// <c>!= 'false'</c>). A version search that does not leaves out the versions of prompts, as MLflow's does.
    /// </summary>
    public bool QueriesPrompts
    {
        get
        {
            foreach (var clause in Clauses)
            {
                if (clause is not { Field: FilterField.Tag { Key: IsPromptTag }, Value: FilterValue.Text text }) continue;
                var value = text.Value.ToLowerInvariant();
                return (clause.Comparator == Comparator.Equal && value == "true")
                       || (clause.Comparator == Comparator.NotEqual && value == "false");
            }
            return false;
        }
    }

    public bool Equals(SearchFilter? other) => other is not null && Entity == other.Entity && Clauses.SequenceEqual(other.Clauses);
    public override int GetHashCode() => HashCode.Combine(Entity, Clauses.Count);

    /// <summary>The filter in canonical MLflow syntax: keys in backticks, values in the quote they do not contain.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var clause in Clauses)
        {
            if (text.Length > 0) text.Append(" AND ");
            text.Append(clause.Field switch
            {
                FilterField.Attribute { Which: var which } => AttributeName(which),
                FilterField.Tag { Key: var key } => key.Contains('`') ? $"tags.\"{key}\"" : $"tags.`{key}`",
                _ => throw new InvalidOperationException("Unknown filter field."),
            });
            text.Append(' ').Append(ComparatorText(clause.Comparator)).Append(' ');
            text.Append(clause.Value switch
            {
                FilterValue.Text { Value: var value } => Quote(value),
                FilterValue.Number { Value: var number } => number.ToString(CultureInfo.InvariantCulture),
                FilterValue.List { Values: var values } => "(" + string.Join(", ", values.Select(Quote)) + ")",
                _ => throw new InvalidOperationException("Unknown filter value."),
            });
        }
        return text.ToString();
    }

    public static string AttributeName(FilterAttribute attribute) => attribute switch
    {
        FilterAttribute.Name => "name",
        FilterAttribute.VersionNumber => "version_number",
        FilterAttribute.RunId => "run_id",
        FilterAttribute.SourcePath => "source_path",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute)),
    };

    public static string ComparatorText(Comparator comparator) => comparator switch
    {
        Comparator.Equal => "=",
        Comparator.NotEqual => "!=",
        Comparator.Less => "<",
        Comparator.LessOrEqual => "<=",
        Comparator.Greater => ">",
        Comparator.GreaterOrEqual => ">=",
        Comparator.Like => "LIKE",
        Comparator.ILike => "ILIKE",
        Comparator.In => "IN",
        _ => throw new ArgumentOutOfRangeException(nameof(comparator)),
    };

    // A value holding both quote kinds cannot be printed (MLflow has no escapes); the parser never yields one.
    private static string Quote(string value) => value.Contains('\'') ? $"\"{value}\"" : $"'{value}'";
}
