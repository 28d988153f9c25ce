using CsCheck;
using EventSourcedRegistry.Mlflow.Search;

namespace EventSourcedRegistry.Tests.Mlflow;

/// <summary>
/// The SQL a search runs (issue 14, item 4): parameterized through and through, one placeholder per value. That it
/// selects what <see cref="SearchEvaluator"/> selects is shown against PostgreSQL in the API tests
/// (<c>when_running_mlflow_searches_in_postgres</c>).
/// </summary>
public class when_translating_mlflow_searches_to_sql
{
    private static SearchFilter Parse(string text, SearchEntity entity)
    {
        Assert.True(FilterParser.TryParse(text, entity, out var filter, out var problem), problem?.Message);
        return filter;
    }

    [Fact]
    public void a_recorded_model_search_becomes_one_parameterized_condition()
    {
        var where = SearchSql.Where(
            Parse("tags.`team` = 'risk' AND name ILIKE 'CHURN-%' AND tag.`mlflow.prompt.is_prompt` != 'true'", SearchEntity.RegisteredModels),
            SearchColumns.Models());

        Assert.Equal(
            "((d.data -> 'tags') ->> ?) = ? and translate((d.data ->> 'name'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') like ? escape '' and " +
            "(((d.data -> 'tags') ->> ?) <> ? or not jsonb_exists(coalesce((d.data -> 'tags'), '{}'::jsonb), ?))",
            where.Sql);
        Assert.Equal(["team", "risk", "churn-%", "mlflow.prompt.is_prompt", "true", "mlflow.prompt.is_prompt"], where.Parameters);
    }

    [Fact]
    public void the_first_tag_equality_is_offered_for_the_tag_index()
    {
        Assert.Equal(("team", "risk"), SearchSql.IndexableTag(Parse(
            "tag.`mlflow.prompt.is_prompt` = 'false' AND tags.k LIKE 'a%' AND tags.team = 'risk' AND tags.x = 'y'", SearchEntity.RegisteredModels)));
        Assert.Null(SearchSql.IndexableTag(Parse("tags.k != 'a' AND name = 'b' AND tag.`mlflow.prompt.is_prompt` != 'true'", SearchEntity.RegisteredModels)));
    }

    [Fact]
    public void a_name_equality_or_prefix_reads_the_normalized_name_index_and_decides_on_the_exact_name()
    {
        var equal = SearchSql.Where(Parse("name = 'Churn'", SearchEntity.RegisteredModels), SearchColumns.Models());
        Assert.Equal("(d.normalized_name = ? and (d.data ->> 'name') = ?)", equal.Sql);
        Assert.Equal(["churn", "Churn"], equal.Parameters);

        var like = SearchSql.Where(Parse("name LIKE 'Ch_rn%'", SearchEntity.RegisteredModels), SearchColumns.Models());
        Assert.Equal("(d.normalized_name >= ? and d.normalized_name like ? escape '\\' and (d.data ->> 'name') like ? escape '')", like.Sql);
        Assert.Equal(["ch", "ch%", "Ch_rn%"], like.Parameters);
    }

    [Fact]
    public void a_version_search_excludes_prompts_and_compares_numbers_as_numbers()
    {
        var where = SearchSql.Where(Parse("run_id IN ('r1', 'r2') AND version_number > 1 AND version_number < 'x'", SearchEntity.ModelVersions),
            SearchColumns.Versions());
        Assert.Equal(
            "coalesce(translate((m.data -> 'tags') ->> ?, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '') <> 'true' and (v.data -> 'lineage' ->> 'runId') = any(?) and " +
            "((v.data ->> 'versionNumber')::int) > ? and (((v.data ->> 'versionNumber')::int) is not null and true)",
            where.Sql);
        Assert.Equal(SearchFilter.IsPromptTag, where.Parameters[0]);
        Assert.Equal(new[] { "r1", "r2" }, (string[])where.Parameters[1]);
        Assert.Equal(1m, where.Parameters[2]);
        Assert.Equal("true", SearchSql.Where(SearchFilter.Empty(SearchEntity.RegisteredModels), SearchColumns.Models()).Sql);
    }

    [Fact]
    public void order_and_page_position_follow_the_sort_keys()
    {
        Assert.True(SearchOrder.TryParse(["last_updated_timestamp DESC"], SearchEntity.ModelVersions, out var keys, out _));
        Assert.Equal("coalesce(((v.data ->> 'lastUpdatedTimestamp')::bigint), 0) desc, m.normalized_name asc, coalesce(((v.data ->> 'versionNumber')::int), 0)::bigint desc",
            SearchSql.OrderBy(keys, SearchColumns.Versions()));
        var after = SearchSql.After(keys, [5L, "churn", 2L], SearchColumns.Versions());
        Assert.Equal(6, after.Parameters.Count);
        Assert.Equal(6, after.Sql.Count(c => c == '?'));
        Assert.StartsWith("((coalesce(((v.data ->> 'lastUpdatedTimestamp')::bigint), 0) < ?) or (", after.Sql);
    }

    private static readonly Gen<string> AnyText = Gen.String[Gen.Char["ab%_'\\ .\""], 0, 4].Where(t => !(t.Contains('\'') && t.Contains('"')));

    private static Comparator TextComparator(int pick) =>
        pick switch { 0 => Comparator.Equal, 1 => Comparator.NotEqual, 2 => Comparator.Like, _ => Comparator.ILike };

    private static readonly Gen<FilterClause> AnyClause = Gen.OneOf(
        Gen.Select(Gen.OneOf(Gen.Const("k"), Gen.Const(SearchFilter.IsPromptTag)), Gen.Int[0, 3], AnyText,
            (key, c, value) => new FilterClause(new FilterField.Tag(key), TextComparator(c), new FilterValue.Text(value))),
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], AnyText, (a, c, value) => new FilterClause(
            new FilterField.Attribute(a switch { 0 => FilterAttribute.Name, 1 => FilterAttribute.RunId, _ => FilterAttribute.SourcePath }),
            TextComparator(c), new FilterValue.Text(value))),
        AnyText.Array[1, 3].Select(values => new FilterClause(new FilterField.Attribute(FilterAttribute.RunId), Comparator.In, new FilterValue.List(values))),
        Gen.Select(Gen.Int[0, 5], Gen.OneOf(Gen.Int[-2, 5].Select(n => (FilterValue)new FilterValue.Number(n)), AnyText.Select(t => (FilterValue)new FilterValue.Text(t))),
            (c, value) => new FilterClause(new FilterField.Attribute(FilterAttribute.VersionNumber), (Comparator)c, value)));

    [Fact]
    public void every_value_is_a_parameter_and_every_parameter_has_its_placeholder()
    {
        AnyClause.Array[0, 5].Sample(clauses =>
        {
            // Marked values and keys: none may reach the SQL text.
            var marked = clauses.Select(c => c with
            {
                Field = c.Field is FilterField.Tag tag && tag.Key != SearchFilter.IsPromptTag ? new FilterField.Tag("§" + tag.Key) : c.Field,
                Value = c.Value switch
                {
                    FilterValue.Text text when c.Field is not FilterField.Tag { Key: SearchFilter.IsPromptTag } => new FilterValue.Text("§" + text.Value),
                    FilterValue.List l => new FilterValue.List(l.Values.Select(v => "§" + v).ToList()),
                    var other => other,
                },
            }).ToList();
            var where = SearchSql.Where(new SearchFilter(SearchEntity.ModelVersions, marked), SearchColumns.Versions());
            Assert.DoesNotContain("§", where.Sql);
            Assert.Equal(where.Parameters.Count, where.Sql.Count(c => c == '?'));
            Assert.All(where.Parameters, p => Assert.True(p is string or decimal or string[], $"{p.GetType()}"));
        });
    }
}
