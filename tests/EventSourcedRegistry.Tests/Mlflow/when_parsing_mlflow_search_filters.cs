using System.Diagnostics;
using EventSourcedRegistry.Mlflow.Search;

namespace EventSourcedRegistry.Tests.Mlflow;

/// <summary>
/// MLflow's filter grammar (issue 14, item 4): what the recorded client sent parses to the clauses it means, and what
/// the reference server refused (shared/mlflow-protocol/transcripts/errors.jsonl) is refused with its message.
/// </summary>
public class when_parsing_mlflow_search_filters
{
    private const string NotAPrompt = "tag.`mlflow.prompt.is_prompt` != 'true'";

    private static SearchFilter Parse(string? text, SearchEntity entity)
    {
        Assert.True(FilterParser.TryParse(text, entity, out var filter, out var problem), problem?.Message);
        Assert.Null(problem);
        return filter;
    }

    private static string Refusal(string? text, SearchEntity entity)
    {
        Assert.False(FilterParser.TryParse(text, entity, out var filter, out var problem));
        Assert.Empty(filter.Clauses);
        return problem!.Message;
    }

    private static FilterClause Tag(string key, Comparator comparator, string value) =>
        new(new FilterField.Tag(key), comparator, new FilterValue.Text(value));

    private static FilterClause Attribute(FilterAttribute attribute, Comparator comparator, FilterValue value) =>
        new(new FilterField.Attribute(attribute), comparator, value);

    private static readonly FilterClause NotAPromptClause = Tag(SearchFilter.IsPromptTag, Comparator.NotEqual, "true");

    [Fact]
    public void the_recorded_model_searches_parse_to_their_clauses()
    {
        Assert.Equal([NotAPromptClause], Parse(NotAPrompt, SearchEntity.RegisteredModels).Clauses);
        Assert.Equal([Attribute(FilterAttribute.Name, Comparator.Like, new FilterValue.Text("ch%")), NotAPromptClause],
            Parse($"name LIKE 'ch%' AND {NotAPrompt}", SearchEntity.RegisteredModels).Clauses);
        Assert.Equal([Tag("team", Comparator.Equal, "risk"), NotAPromptClause],
            Parse($"tags.team = 'risk' AND {NotAPrompt}", SearchEntity.RegisteredModels).Clauses);
        Assert.Equal([Tag("team", Comparator.Equal, "risk"), Attribute(FilterAttribute.Name, Comparator.ILike, new FilterValue.Text("CHURN-%")), NotAPromptClause],
            Parse($"tags.`team` = 'risk' AND name ILIKE 'CHURN-%' AND {NotAPrompt}", SearchEntity.RegisteredModels).Clauses);
    }

    [Fact]
    public void the_recorded_version_searches_parse_to_their_clauses()
    {
        Assert.Equal([Attribute(FilterAttribute.Name, Comparator.Equal, new FilterValue.Text("churn-classifier"))],
            Parse("name='churn-classifier'", SearchEntity.ModelVersions).Clauses);
        Assert.Equal([Attribute(FilterAttribute.RunId, Comparator.Equal, new FilterValue.Text("r1"))],
            Parse("run_id='r1'", SearchEntity.ModelVersions).Clauses);
        Assert.Equal([Attribute(FilterAttribute.Name, Comparator.Equal, new FilterValue.Text("churn-classifier")),
                      Attribute(FilterAttribute.VersionNumber, Comparator.Greater, new FilterValue.Number(1))],
            Parse("name='churn-classifier' AND version_number > 1", SearchEntity.ModelVersions).Clauses);
        Assert.Equal([Tag("framework", Comparator.Equal, "sklearn")], Parse("tags.framework = 'sklearn'", SearchEntity.ModelVersions).Clauses);
        Assert.Equal([Attribute(FilterAttribute.SourcePath, Comparator.Equal, new FilterValue.Text("s3://bucket/fraud/1/model"))],
            Parse("source_path = 's3://bucket/fraud/1/model'", SearchEntity.ModelVersions).Clauses);
        Assert.Equal([Attribute(FilterAttribute.RunId, Comparator.In, new FilterValue.List(["r1", "r2"]))],
            Parse("run_id IN ('r1', 'r2')", SearchEntity.ModelVersions).Clauses);
        // Recorded as 200 with no results: a quoted non-number is a value, not a refusal.
        Assert.Equal([Attribute(FilterAttribute.VersionNumber, Comparator.Greater, new FilterValue.Text("x"))],
            Parse("version_number > 'x'", SearchEntity.ModelVersions).Clauses);
    }

    [Theory]
    // MLflow's documented spellings: both tag prefixes, backticks or double quotes around a key, either quote around a
    // value, keywords in any case, the attribute prefix, a key with dots after the first.
    [InlineData("tags.`k.with.dots` = 'v'", "k.with.dots", "v")]
    [InlineData("tag.\"k.with.dots\" = \"v\"", "k.with.dots", "v")]
    [InlineData("tags.a.b = 'v'", "a.b", "v")]
    [InlineData("tags.`it's` = \"say \"", "it's", "say ")]
    [InlineData("  tags.k   =   'it''s'  ", null, null)]
    public void keys_and_values_are_read_as_mlflow_writes_them(string text, string? key, string? value)
    {
        if (key is null)
        {
            // No escapes inside quotes (MLflow has none): a doubled quote ends the value and starts another token.
            Assert.StartsWith("Invalid clause(s) in filter string", Refusal(text, SearchEntity.RegisteredModels));
            return;
        }
        Assert.Equal([Tag(key, Comparator.Equal, value!)], Parse(text, SearchEntity.RegisteredModels).Clauses);
    }

    [Fact]
    public void keywords_read_in_any_case_and_attribute_prefix_names_an_attribute()
    {
        var filter = Parse("attribute.name like 'a%' and name ilike '%B' And version_number >= 2 AND run_id in (\"x\")", SearchEntity.ModelVersions);
        Assert.Equal([Comparator.Like, Comparator.ILike, Comparator.GreaterOrEqual, Comparator.In], filter.Clauses.Select(c => c.Comparator));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \t\n")]
    public void no_filter_is_the_empty_filter(string? text)
    {
        Assert.Empty(Parse(text, SearchEntity.RegisteredModels).Clauses);
    }

    [Theory]
    // The reference server's own words (errors.jsonl steps 18 to 23).
    [InlineData(SearchEntity.RegisteredModels, "name = 'churn' OR name = 'fraud' AND " + NotAPrompt, "Invalid clause(s) in filter string: OR")]
    [InlineData(SearchEntity.RegisteredModels, "nme = 'churn' AND " + NotAPrompt, "Invalid attribute key 'nme' specified. Valid keys are '{'name'}'")]
    [InlineData(SearchEntity.RegisteredModels, "name = churn AND " + NotAPrompt,
        "Parameter value is either not quoted or unidentified quote types used for string value churn. Use either single or double quotes.")]
    [InlineData(SearchEntity.ModelVersions, "name = 'churn' OR run_id = 'r1'", "Invalid clause(s) in filter string: OR")]
    [InlineData(SearchEntity.ModelVersions, "foo = 'bar'", "Invalid attribute key 'foo' specified. Valid keys are '{'run_id', 'source_path', 'name', 'version_number'}'")]
    public void the_recorded_refusals_carry_mlflows_message(SearchEntity entity, string text, string message)
    {
        Assert.Equal(message, Refusal(text, entity));
    }

    [Theory]
    // What MLflow allows per entity: models filter by name and tags only; IN for run_id only; numbers for version_number only.
    [InlineData(SearchEntity.RegisteredModels, "version_number = 1", "Invalid attribute key 'version_number'")]
    [InlineData(SearchEntity.RegisteredModels, "run_id = 'r1'", "Invalid attribute key 'run_id'")]
    [InlineData(SearchEntity.RegisteredModels, "current_stage = 'Production'", "Invalid attribute key 'current_stage'")]
    [InlineData(SearchEntity.ModelVersions, "current_stage = 'Production'", "Invalid attribute key 'current_stage'")]
    [InlineData(SearchEntity.RegisteredModels, "name IN ('a', 'b')", "Only the 'run_id' attribute supports comparison with a list")]
    [InlineData(SearchEntity.ModelVersions, "name IN ('a')", "Only the 'run_id' attribute supports comparison with a list")]
    [InlineData(SearchEntity.ModelVersions, "run_id NOT IN ('a')", "Invalid comparator for attribute: NOT IN")]
    [InlineData(SearchEntity.ModelVersions, "run_id IN ()", "expected a non-empty list of string values, but got empty list")]
    [InlineData(SearchEntity.ModelVersions, "run_id IN ('a',)", "but got ill-formed list")]
    [InlineData(SearchEntity.ModelVersions, "run_id IN ('a' 'b')", "but got ill-formed list")]
    [InlineData(SearchEntity.ModelVersions, "run_id IN (1, 2)", "but got ill-formed list")]
    [InlineData(SearchEntity.ModelVersions, "run_id IN 'a'", "Invalid clause(s) in filter string: IN")]
    [InlineData(SearchEntity.ModelVersions, "run_id = ('a')", "Invalid clause(s) in filter string: =")]
    [InlineData(SearchEntity.ModelVersions, "name < 'b'", "Invalid comparator for attribute: <")]
    [InlineData(SearchEntity.ModelVersions, "version_number LIKE '1%'", "Invalid comparator for attribute version_number: LIKE")]
    [InlineData(SearchEntity.ModelVersions, "version_number IN ('1')", "Only the 'run_id' attribute supports comparison with a list")]
    [InlineData(SearchEntity.ModelVersions, "run_id = 5", "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' attributes support comparison with numeric values.")]
    [InlineData(SearchEntity.RegisteredModels, "name = 5", "Expected a quoted string value or a list of quoted string values for attributes. Got value 5")]
    [InlineData(SearchEntity.RegisteredModels, "tags.k = 5", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5")]
    [InlineData(SearchEntity.RegisteredModels, "tags.k > 'a'", "Invalid comparator for tag: >")]
    [InlineData(SearchEntity.RegisteredModels, "tags.k IN ('a')", "Expected a quoted string value for tag")]
    [InlineData(SearchEntity.RegisteredModels, "params.k = 'a'", "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')")]
    [InlineData(SearchEntity.RegisteredModels, "TAGS.k = 'a'", "Invalid entity type 'TAGS'")]
    [InlineData(SearchEntity.RegisteredModels, "`name` = 'a'", "Invalid attribute key '`name`'")]
    [InlineData(SearchEntity.RegisteredModels, "tags. = 'a'", "Invalid identifier")]
    [InlineData(SearchEntity.RegisteredModels, "name == 'a'", "Invalid comparator '=='")]
    [InlineData(SearchEntity.RegisteredModels, "name <> 'a'", "Invalid comparator '<>'")]
    [InlineData(SearchEntity.RegisteredModels, "name 'a'", "Invalid clause(s) in filter string: a")]
    [InlineData(SearchEntity.RegisteredModels, "name =", "has no value")]
    [InlineData(SearchEntity.RegisteredModels, "name", "has no comparator and value")]
    [InlineData(SearchEntity.RegisteredModels, "name = 'a' AND", "Invalid clause(s) in filter string: AND")]
    [InlineData(SearchEntity.RegisteredModels, "AND name = 'a'", "Invalid clause(s) in filter string: AND")]
    [InlineData(SearchEntity.RegisteredModels, "name = 'a' name = 'b'", "Invalid clause(s) in filter string: name")]
    [InlineData(SearchEntity.RegisteredModels, "(name = 'a')", "Invalid clause(s) in filter string: (")]
    [InlineData(SearchEntity.RegisteredModels, "name = 'a'; drop table x", "Search filter contained multiple expression")]
    [InlineData(SearchEntity.RegisteredModels, "name = 'a' @", "Invalid clause(s) in filter string: @")]
    [InlineData(SearchEntity.RegisteredModels, "name = 'unclosed", "the quote (') at position 8 is never closed")]
    [InlineData(SearchEntity.RegisteredModels, "tags.`k = 'a'", "the quote (`) at position 6 is never closed")]
    [InlineData(SearchEntity.ModelVersions, "version_number > 1e99999", "out of range")]
    public void what_mlflow_does_not_allow_is_refused_with_a_reason(SearchEntity entity, string text, string says)
    {
        Assert.Contains(says, Refusal(text, entity));
    }

    [Fact]
    public void hostile_input_is_refused_cleanly_and_in_linear_time()
    {
        Assert.Contains("NUL", Refusal("name = 'a\0b'", SearchEntity.RegisteredModels));
        Assert.Contains("not valid Unicode", Refusal("name = 'a\ud800'", SearchEntity.RegisteredModels));
        Assert.Contains("at most 10000 characters", Refusal(new string('(', 10_001), SearchEntity.RegisteredModels));

        // The longest accepted inputs, and the worst shapes at that length: each read or refused in well under a second
        // (a quadratic reader would take minutes on some of them).
        var clauses = string.Join(" AND ", Enumerable.Repeat("tags.k = 'v'", 700))[..FilterParser.MaxLength];
        string[] worst =
        [
            clauses,
            string.Join(" AND ", Enumerable.Repeat("tags.k = 'v'", 500)),
            new string('(', FilterParser.MaxLength),
            new string('\'', FilterParser.MaxLength),
            "name = '" + new string('x', FilterParser.MaxLength - 8),
            "tags." + string.Join(".", Enumerable.Repeat("a", 4000)) + " = 'v'",
            "run_id IN (" + string.Join(",", Enumerable.Repeat("'r'", 2400)) + ")",
            string.Concat(Enumerable.Repeat("a.", FilterParser.MaxLength / 2)),
            new string('=', FilterParser.MaxLength),
            new string('9', FilterParser.MaxLength),
        ];
        var watch = Stopwatch.StartNew();
        foreach (var text in worst)
        {
            Assert.True(text.Length <= FilterParser.MaxLength);
            // Either outcome is fine; what matters is that it is a value, not an exception, and quick.
            FilterParser.TryParse(text, SearchEntity.ModelVersions, out _, out var problem);
            if (problem is not null) Assert.True(problem.Message.Length < 400, problem.Message);
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{worst.Length} hostile filters took {watch.Elapsed}.");
        Assert.Equal(500, Parse(worst[1], SearchEntity.ModelVersions).Clauses.Count);
    }
}
