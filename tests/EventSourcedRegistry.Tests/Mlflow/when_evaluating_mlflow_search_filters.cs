using System.Text.RegularExpressions;
using CsCheck;
using EventSourcedRegistry.Mlflow.Search;

namespace EventSourcedRegistry.Tests.Mlflow;

/// <summary>
/// MLflow's search semantics as a pure predicate (issue 14, item 4): the recorded searches select what the reference
/// server answered, and random filters over random records keep the grammar's laws.
/// </summary>
public class when_evaluating_mlflow_search_filters
{
    private static readonly Dictionary<string, string> NoTags = new();

    private static SearchFilter Parse(string text, SearchEntity entity)
    {
        Assert.True(FilterParser.TryParse(text, entity, out var filter, out var problem), problem?.Message);
        return filter;
    }

    private static SearchSubject Model(string name, params (string Key, string Value)[] tags) =>
        new(name, tags.ToDictionary(t => t.Key, t => t.Value));

    private static SearchSubject Version(string name, int version, string runId, string source, params (string Key, string Value)[] tags) =>
        new(name, tags.ToDictionary(t => t.Key, t => t.Value), version, runId, source, NoTags);

    // The registry of pipeline.jsonl at its search steps (46 to 63).
    private static readonly SearchSubject[] Models =
    [
        Model("churn-baseline", ("team", "risk")),
        Model("churn-classifier", ("team", "risk")),
        Model("fraud"),
    ];

    private static readonly SearchSubject[] Versions =
    [
        Version("churn-classifier", 1, "r1", "s3://bucket/churn/1/model", ("framework", "sklearn"), ("validated", "true")),
        Version("churn-classifier", 2, "r2", "s3://bucket/churn/2/model"),
        Version("fraud", 1, "r1", "s3://bucket/fraud/1/model"),
    ];

    private static string[] Search(SearchSubject[] subjects, SearchEntity entity, string filter, params string[] orderBy)
    {
        Assert.True(SearchOrder.TryParse(orderBy, entity, out var keys, out var problem), problem?.Message);
        return SearchEvaluator.Search(subjects, Parse(filter, entity), keys, null, 1000)
            .Select(s => s.Version is { } v ? $"{s.Name}/{v}" : s.Name).ToArray();
    }

    private const string NotAPrompt = "tag.`mlflow.prompt.is_prompt` != 'true'";

    [Fact]
    public void the_recorded_model_searches_select_what_the_reference_server_answered()
    {
        Assert.Equal(["churn-baseline", "churn-classifier", "fraud"], Search(Models, SearchEntity.RegisteredModels, NotAPrompt));
        Assert.Equal(["churn-baseline", "churn-classifier"], Search(Models, SearchEntity.RegisteredModels, $"name LIKE 'ch%' AND {NotAPrompt}"));
        Assert.Equal(["churn-baseline", "churn-classifier"], Search(Models, SearchEntity.RegisteredModels, $"tags.team = 'risk' AND {NotAPrompt}"));
        Assert.Equal(["churn-classifier", "churn-baseline"],
            Search(Models, SearchEntity.RegisteredModels, $"tags.`team` = 'risk' AND name ILIKE 'CHURN-%' AND {NotAPrompt}", "name DESC"));
    }

    [Fact]
    public void the_recorded_version_searches_select_what_the_reference_server_answered()
    {
        Assert.Equal(["churn-classifier/2", "churn-classifier/1"], Search(Versions, SearchEntity.ModelVersions, "name='churn-classifier'"));
        Assert.Equal(["churn-classifier/1", "fraud/1"], Search(Versions, SearchEntity.ModelVersions, "run_id='r1'"));
        Assert.Equal(["churn-classifier/2"], Search(Versions, SearchEntity.ModelVersions, "name='churn-classifier' AND version_number > 1"));
        Assert.Equal(["churn-classifier/1"], Search(Versions, SearchEntity.ModelVersions, "tags.framework = 'sklearn'"));
        Assert.Equal(["churn-classifier/2", "churn-classifier/1"], Search(Versions, SearchEntity.ModelVersions, "name LIKE 'churn%'", "version_number DESC"));
        Assert.Equal(["fraud/1"], Search(Versions, SearchEntity.ModelVersions, "source_path = 's3://bucket/fraud/1/model'"));
        Assert.Equal(["churn-classifier/1", "churn-classifier/2", "fraud/1"],
            Search(Versions, SearchEntity.ModelVersions, "run_id IN ('r1', 'r2')", "name ASC", "version_number ASC"));
        Assert.Empty(Search(Versions, SearchEntity.ModelVersions, "version_number > 'x'"));
    }

    [Fact]
    public void a_model_without_the_prompt_tag_is_not_a_prompt_but_other_missing_tags_match_nothing()
    {
        var plain = Model("plain");
        var prompt = Model("prompt", (SearchFilter.IsPromptTag, "true"));
        bool Matches(string filter, SearchSubject subject) => SearchEvaluator.Matches(Parse(filter, SearchEntity.RegisteredModels), subject);

        Assert.True(Matches(NotAPrompt, plain));
        Assert.False(Matches(NotAPrompt, prompt));
        Assert.True(Matches("tags.`mlflow.prompt.is_prompt` = 'false'", plain));
        Assert.False(Matches("tags.`mlflow.prompt.is_prompt` = 'true'", plain));
        Assert.True(Matches("tags.`mlflow.prompt.is_prompt` = 'true'", prompt));
        // Any other tag: a clause on it needs the tag, != included (MLflow's tag join).
        Assert.False(Matches("tags.team != 'risk'", plain));
        Assert.True(Matches("tags.team != 'risk'", Model("x", ("team", "ops"))));
    }

    [Fact]
    public void a_version_search_leaves_out_prompts_unless_it_asks_for_them()
    {
        var promptTags = new Dictionary<string, string> { [SearchFilter.IsPromptTag] = "true" };
        var ofPrompt = new SearchSubject("summarize", NoTags, 1, null, "s3://p", promptTags);
        var ofModel = new SearchSubject("churn", NoTags, 1, null, "s3://m", NoTags);

        Assert.False(SearchEvaluator.Matches(SearchFilter.Empty(SearchEntity.ModelVersions), ofPrompt));
        Assert.True(SearchEvaluator.Matches(SearchFilter.Empty(SearchEntity.ModelVersions), ofModel));
        var asksForPrompts = Parse("tags.`mlflow.prompt.is_prompt` = 'true' AND name = 'summarize'", SearchEntity.ModelVersions);
        Assert.True(asksForPrompts.QueriesPrompts);
        Assert.True(SearchEvaluator.Matches(asksForPrompts, ofPrompt with { Tags = promptTags }));
    }

    [Theory]
    [InlineData("churn", "churn", true)]
    [InlineData("churn", "Churn", false)]
    [InlineData("churn", "ch%", true)]
    [InlineData("churn", "CH%", false)]
    [InlineData("churn", "%urn", true)]
    [InlineData("churn", "ch_rn", true)]
    [InlineData("churn", "ch_n", false)]
    [InlineData("churn", "%", true)]
    [InlineData("", "%", true)]
    [InlineData("", "_", false)]
    [InlineData("a%b", "a\\%b", false)] // no escape character: the backslash is a literal
    [InlineData("a\\xb", "a\\%b", true)]
    [InlineData("日本", "__", true)] // _ is one character, not one UTF-16 unit
    [InlineData("𝔘x", "_x", true)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%a%a%a%c", false)]
    public void like_is_case_sensitive_with_two_wildcards_and_no_escape(string text, string pattern, bool matches)
    {
        Assert.Equal(matches, SearchEvaluator.Like(text, pattern, ignoreCase: false));
    }

    [Fact]
    public void ilike_ignores_the_case_of_ascii_letters_as_the_reference_server_does()
    {
        Assert.True(SearchEvaluator.Like("Churn-Classifier", "CHURN-%", ignoreCase: true));
        // SQLite (the reference server's store) folds ASCII only; so does the SQL translation on any locale.
        Assert.False(SearchEvaluator.Like("ÉTÉ", "été", ignoreCase: true));
        Assert.True(SearchEvaluator.Like("ÉTÉ", "ÉtÉ", ignoreCase: true));
        Assert.False(SearchEvaluator.Like("churn", "fraud%", ignoreCase: true));
    }

    [Fact]
    public void version_numbers_compare_as_numbers_and_a_quoted_non_number_ranks_above_them()
    {
        var v10 = new SearchSubject("m", NoTags, 10, null, null, NoTags);
        bool Matches(string filter) => SearchEvaluator.Matches(Parse(filter, SearchEntity.ModelVersions), v10);
        Assert.True(Matches("version_number > 9"));
        Assert.True(Matches("version_number > '9'"));
        Assert.True(Matches("version_number = 10.0"));
        Assert.True(Matches("version_number < 10.5"));
        Assert.True(Matches("version_number >= -1"));
        Assert.False(Matches("version_number > 'x'"));
        Assert.False(Matches("version_number = 'x'"));
        Assert.True(Matches("version_number < 'x'"));
        Assert.True(Matches("version_number != 'x'"));
    }

    // ---- properties over random filters and records --------------------------------------------------------------

    /// <summary>Few letters, so random clauses and records meet often; quotes, dots, spaces and wildcards on purpose.</summary>
    private static readonly Gen<string> AnyText = Gen.OneOf(
        Gen.String[Gen.Char["abAB_%' .\"-"], 0, 4],
        Gen.OneOf(Gen.Const("a"), Gen.Const("ab"), Gen.Const("A"), Gen.Const("")));

    private static readonly Gen<string> AnyValue = AnyText.Where(t => !(t.Contains('\'') && t.Contains('"')));
    private static readonly Gen<string> AnyKey = Gen.OneOf(Gen.Const("a"), Gen.Const("b.c"), Gen.Const("it's"), Gen.Const(SearchFilter.IsPromptTag));
    private static readonly Gen<string> AnyName = Gen.String[Gen.Char["abAB-"], 1, 3];

    private static readonly Gen<Dictionary<string, string>> AnyTags =
        Gen.Select(AnyKey, Gen.OneOf(AnyText, Gen.Const("true"), Gen.Const("false"))).Array[0, 3]
            .Select(pairs => pairs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2));

    private static readonly Gen<SearchSubject> AnyVersion =
        Gen.Select(AnyName, AnyTags, Gen.Int[1, 4], Gen.OneOf(Gen.Const((string?)null), AnyText.Select(t => (string?)t)), AnyTags,
            (name, tags, version, runId, modelTags) => new SearchSubject(name, tags, version, runId, runId is null ? null : "s3://" + runId, modelTags));

    private static readonly Gen<FilterClause> AnyVersionClause = Gen.OneOf(
        Gen.Select(AnyKey, Gen.OneOf(Gen.Const(Comparator.Equal), Gen.Const(Comparator.NotEqual), Gen.Const(Comparator.Like), Gen.Const(Comparator.ILike)), AnyValue,
            (key, comparator, value) => new FilterClause(new FilterField.Tag(key), comparator, new FilterValue.Text(value))),
        Gen.Select(Gen.OneOf(Gen.Const(FilterAttribute.Name), Gen.Const(FilterAttribute.RunId), Gen.Const(FilterAttribute.SourcePath)),
            Gen.OneOf(Gen.Const(Comparator.Equal), Gen.Const(Comparator.NotEqual), Gen.Const(Comparator.Like), Gen.Const(Comparator.ILike)), AnyValue,
            (attribute, comparator, value) => new FilterClause(new FilterField.Attribute(attribute), comparator, new FilterValue.Text(value))),
        AnyValue.Array[1, 3].Select(values =>
            new FilterClause(new FilterField.Attribute(FilterAttribute.RunId), Comparator.In, new FilterValue.List(values))),
        Gen.Select(Gen.OneOf(Gen.Const(Comparator.Equal), Gen.Const(Comparator.NotEqual), Gen.Const(Comparator.Less),
                Gen.Const(Comparator.LessOrEqual), Gen.Const(Comparator.Greater), Gen.Const(Comparator.GreaterOrEqual)),
            Gen.OneOf(Gen.Int[-1, 5].Select(n => (FilterValue)new FilterValue.Number(n)), Gen.Const<FilterValue>(new FilterValue.Number(2.5m)),
                Gen.Const<FilterValue>(new FilterValue.Text("3")), Gen.Const<FilterValue>(new FilterValue.Text("x"))),
            (comparator, value) => new FilterClause(new FilterField.Attribute(FilterAttribute.VersionNumber), comparator, value)));

    public static readonly Gen<SearchFilter> AnyVersionFilter =
        AnyVersionClause.Array[0, 4].Select(clauses => new SearchFilter(SearchEntity.ModelVersions, clauses));

    [Fact]
    public void a_printed_filter_parses_back_to_itself()
    {
        AnyVersionFilter.Sample(filter =>
        {
            var text = filter.ToString();
            Assert.True(FilterParser.TryParse(text, SearchEntity.ModelVersions, out var parsed, out var problem), $"{text}: {problem?.Message}");
            Assert.Equal(filter, parsed);
        });
    }

    [Fact]
    public void and_is_the_intersection_of_its_clauses()
    {
        Gen.Select(AnyVersionFilter, AnyVersion).Sample((filter, subject) =>
        {
            var all = SearchEvaluator.Matches(filter, subject);
            var each = SearchEvaluator.Matches(SearchFilter.Empty(SearchEntity.ModelVersions), subject)
                       && filter.Clauses.All(clause => SearchEvaluator.Matches(new SearchFilter(filter.Entity, [clause]), subject));
            // A clause on the prompt tag decides alone whether prompts are searched; everything else is per clause.
            if (!filter.Clauses.Any(c => c.Field is FilterField.Tag { Key: SearchFilter.IsPromptTag })) Assert.Equal(each, all);
        });
    }

    [Fact]
    public void equal_and_not_equal_split_the_records_that_have_the_field()
    {
        Gen.Select(AnyKey.Where(k => k != SearchFilter.IsPromptTag), AnyValue, AnyVersion).Sample((key, value, subject) =>
        {
            var plain = subject with { ModelTags = NoTags };
            bool Holds(Comparator comparator) => SearchEvaluator.Holds(new FilterClause(new FilterField.Tag(key), comparator, new FilterValue.Text(value)), plain);
            Assert.Equal(plain.Tags.ContainsKey(key), Holds(Comparator.Equal) ^ Holds(Comparator.NotEqual));
            if (!plain.Tags.ContainsKey(key))
                Assert.False(Holds(Comparator.Equal) || Holds(Comparator.NotEqual) || Holds(Comparator.Like) || Holds(Comparator.ILike));
            // LIKE with no wildcard is =; ILIKE is LIKE over lower-cased text.
            if (!value.Contains('%') && !value.Contains('_')) Assert.Equal(Holds(Comparator.Equal), Holds(Comparator.Like));
            if (plain.Tags.TryGetValue(key, out var actual))
                Assert.Equal(SearchEvaluator.Like(SearchEvaluator.AsciiLower(actual), SearchEvaluator.AsciiLower(value), false), Holds(Comparator.ILike));
        });
    }

    [Fact]
    public void like_agrees_with_a_regular_expression_of_the_pattern()
    {
        Gen.Select(Gen.String[Gen.Char["ab%_"], 0, 6], Gen.String[Gen.Char["ab%_"], 0, 8]).Sample((pattern, text) =>
        {
            var regex = "^" + string.Concat(pattern.Select(c => c switch { '%' => ".*", '_' => ".", _ => Regex.Escape(c.ToString()) })) + "$";
            Assert.Equal(Regex.IsMatch(text, regex, RegexOptions.Singleline), SearchEvaluator.Like(text, pattern, ignoreCase: false));
        });
    }

    [Fact]
    public void version_comparisons_are_complements_of_each_other()
    {
        Gen.Select(Gen.Int[1, 5], AnyVersionClause.Where(c => c.Field is FilterField.Attribute { Which: FilterAttribute.VersionNumber })).Sample((version, clause) =>
        {
            var subject = new SearchSubject("m", NoTags, version, null, null, NoTags);
            var opposite = clause.Comparator switch
            {
                Comparator.Equal => Comparator.NotEqual,
                Comparator.NotEqual => Comparator.Equal,
                Comparator.Less => Comparator.GreaterOrEqual,
                Comparator.GreaterOrEqual => Comparator.Less,
                Comparator.Greater => Comparator.LessOrEqual,
                _ => Comparator.Greater,
            };
            Assert.NotEqual(SearchEvaluator.Holds(clause, subject), SearchEvaluator.Holds(clause with { Comparator = opposite }, subject));
        });
    }
}
