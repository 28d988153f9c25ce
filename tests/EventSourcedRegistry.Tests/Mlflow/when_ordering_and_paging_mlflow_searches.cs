using CsCheck;
using EventSourcedRegistry.Mlflow.Search;

namespace EventSourcedRegistry.Tests.Mlflow;

/// <summary>
/// <c>order_by</c> with MLflow's keys, defaults and tie-breakers, and opaque page tokens that continue exactly one
/// search (issue 14, item 4).
/// </summary>
public class when_ordering_and_paging_mlflow_searches
{
    private static IReadOnlyList<SortKey> Order(SearchEntity entity, params string[] orderBy)
    {
        Assert.True(SearchOrder.TryParse(orderBy, entity, out var keys, out var problem), problem?.Message);
        return keys;
    }

    [Fact]
    public void the_tie_breakers_are_name_ascending_then_version_descending()
    {
        Assert.Equal([new SortKey(SortField.Name, true)], Order(SearchEntity.RegisteredModels));
        Assert.Equal([new SortKey(SortField.Name, true), new SortKey(SortField.VersionNumber, false)], Order(SearchEntity.ModelVersions));
        Assert.Equal([new SortKey(SortField.LastUpdatedTimestamp, false), new SortKey(SortField.Name, true)],
            Order(SearchEntity.RegisteredModels, "last_updated_timestamp DESC", "name ASC"));
        Assert.Equal([new SortKey(SortField.Name, false)], Order(SearchEntity.RegisteredModels, "name DESC"));
        Assert.Equal([new SortKey(SortField.VersionNumber, false), new SortKey(SortField.Name, true)],
            Order(SearchEntity.ModelVersions, "version_number DESC"));
        Assert.Equal([new SortKey(SortField.Name, true), new SortKey(SortField.VersionNumber, true)],
            Order(SearchEntity.ModelVersions, "name ASC", "version_number ASC"));
        // MLflow's stores read the model key "timestamp" as the last update; the direction is any case, ascending by default.
        Assert.Equal([new SortKey(SortField.LastUpdatedTimestamp, true), new SortKey(SortField.Name, true)], Order(SearchEntity.RegisteredModels, "timestamp"));
        Assert.Equal([new SortKey(SortField.CreationTimestamp, false), new SortKey(SortField.Name, true)], Order(SearchEntity.RegisteredModels, "`creation_timestamp` desc"));
    }

    [Theory]
    // errors.jsonl step 24, verbatim.
    [InlineData(SearchEntity.RegisteredModels, new[] { "foo DESC" }, "Invalid order by key 'foo' specified. Valid keys are '{'timestamp', 'name'}'")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "version_number" }, "Invalid order by key 'version_number' specified.")]
    [InlineData(SearchEntity.ModelVersions, new[] { "timestamp" }, "Invalid order by key 'timestamp' specified.")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "name up" }, "Invalid ordering key in order_by clause 'name up'.")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "name ASC please" }, "Invalid order_by clause 'name ASC please'. Could not be parsed.")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "" }, "Could not be parsed.")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "name\0" }, "Could not be parsed.")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "name", "name DESC" }, "`order_by` contains duplicate fields")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "timestamp", "last_updated_timestamp" }, "`order_by` contains duplicate fields")]
    [InlineData(SearchEntity.RegisteredModels, new[] { "name", "name", "name", "name", "name", "name", "name", "name", "name" }, "at most 8")]
    public void an_order_mlflow_does_not_know_is_refused(SearchEntity entity, string[] orderBy, string says)
    {
        Assert.False(SearchOrder.TryParse(orderBy, entity, out _, out var problem));
        Assert.Contains(says, problem!.Message);
    }

    [Fact]
    public void max_results_is_a_whole_number_up_to_the_entitys_limit()
    {
        Assert.True(SearchProblem.TryReadMaxResults(null, SearchEntity.RegisteredModels, out var models, out _));
        Assert.Equal(100, models);
        Assert.True(SearchProblem.TryReadMaxResults("", SearchEntity.ModelVersions, out var versions, out _));
        Assert.Equal(10_000, versions);
        Assert.True(SearchProblem.TryReadMaxResults("1000", SearchEntity.RegisteredModels, out models, out _));
        Assert.Equal(1000, models);
        Assert.True(SearchProblem.TryReadMaxResults("200000", SearchEntity.ModelVersions, out versions, out _));
        Assert.Equal(200_000, versions);
        // errors.jsonl steps 26 and 27, and what else a query string can hold.
        foreach (var (text, entity) in new[] { ("1001", SearchEntity.RegisteredModels), ("200001", SearchEntity.ModelVersions), ("0", SearchEntity.RegisteredModels),
                     ("-1", SearchEntity.RegisteredModels), ("1e3", SearchEntity.RegisteredModels), (" 10", SearchEntity.RegisteredModels),
                     ("99999999999999999999", SearchEntity.ModelVersions), ("ten", SearchEntity.RegisteredModels) })
        {
            Assert.False(SearchProblem.TryReadMaxResults(text, entity, out _, out var problem));
            Assert.StartsWith($"Invalid value \"{text}\" for parameter 'max_results' supplied", problem!.Message);
        }
    }

    private static SearchFilter Filter(string text)
    {
        Assert.True(FilterParser.TryParse(text, SearchEntity.ModelVersions, out var filter, out _));
        return filter;
    }

    [Fact]
    public void a_page_token_carries_its_position_and_continues_only_its_own_search()
    {
        var filter = Filter("name LIKE 'churn%'");
        var keys = Order(SearchEntity.ModelVersions, "last_updated_timestamp DESC");
        var token = PageTokens.Encode(filter, keys, [1_700_000_000_123L, "churn-classifier", 2L]);

        Assert.True(PageTokens.TryDecode(token, filter, keys, out var after, out _));
        Assert.Equal([1_700_000_000_123L, "churn-classifier", 2L], after);
        // The same search spelled differently is the same search.
        Assert.True(PageTokens.TryDecode(token, Filter("name like \"churn%\""), keys, out _, out _));
        Assert.True(PageTokens.TryDecode(null, filter, keys, out after, out _));
        Assert.Null(after);

        Assert.False(PageTokens.TryDecode(token, Filter("name LIKE 'fraud%'"), keys, out _, out var otherFilter));
        Assert.Contains("another search", otherFilter!.Message);
        Assert.False(PageTokens.TryDecode(token, filter, Order(SearchEntity.ModelVersions, "last_updated_timestamp ASC"), out _, out var otherOrder));
        Assert.Contains("another search", otherOrder!.Message);
        Assert.False(PageTokens.TryDecode(token, filter, Order(SearchEntity.ModelVersions), out _, out var otherKeys));
        Assert.Contains("does not fit", otherKeys!.Message);
    }

    [Theory]
    // errors.jsonl step 25, verbatim; the reference server's own tokens; and worse.
    [InlineData("not-a-token", "Invalid page token, could not base64-decode")]
    [InlineData("eyJvZmZzZXQiOiAxfQ==", "Invalid page token, could not base64-decode")]
    [InlineData(".", "Invalid page token, could not base64-decode")]
    [InlineData("e30.AAAAAAAAAAAAAAAA", "it was changed or not made by this server")]
    [InlineData("e30.", "Invalid page token, could not base64-decode")]
    [InlineData("e30.!!!!", "Invalid page token, could not base64-decode")]
    public void a_malformed_or_forged_token_is_refused(string token, string says)
    {
        Assert.False(PageTokens.TryDecode(token, Filter("name = 'a'"), Order(SearchEntity.ModelVersions), out var after, out var problem));
        Assert.Null(after);
        Assert.Contains(says, problem!.Message);
    }

    [Fact]
    public void a_token_too_long_is_refused_unread()
    {
        Assert.False(PageTokens.TryDecode(new string('A', PageTokens.MaxLength + 1) + ".AAAA", Filter("name = 'a'"), Order(SearchEntity.ModelVersions), out _, out var problem));
        Assert.Contains("could not base64-decode", problem!.Message);
    }

    [Fact]
    public void any_change_to_a_token_is_refused_or_changes_nothing()
    {
        var filter = Filter("tags.team = 'risk'");
        var keys = Order(SearchEntity.ModelVersions);
        var token = PageTokens.Encode(filter, keys, ["churn", 3L]);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/";
        Gen.Select(Gen.Int[0, token.Length - 1], Gen.Char[alphabet]).Sample((at, c) =>
        {
            var changed = token[..at] + c + token[(at + 1)..];
            // Base64's last character carries spare bits: a change there may decode to the same bytes.
            if (PageTokens.TryDecode(changed, filter, keys, out var after, out _)) Assert.Equal(["churn", 3L], after);
        });
    }

    /// <summary>Versions of a few models with distinct (name, version) and random timestamps: the order is total.</summary>
    private static readonly Gen<SearchSubject[]> AnyVersions =
        Gen.Select(Gen.OneOf(Gen.Const("a"), Gen.Const("B"), Gen.Const("c-1"), Gen.Const("é")), Gen.Int[1, 6], Gen.Long[0, 3], Gen.Long[0, 3])
            .Array[0, 25]
            .Select(rows => rows.DistinctBy(r => (r.Item1, r.Item2))
                .Select(r => new SearchSubject(r.Item1, new Dictionary<string, string>(), r.Item2, "r", "s3://x",
                    new Dictionary<string, string>(), r.Item3, r.Item4)).ToArray());

    private static readonly Gen<string[]> AnyOrder = Gen.Shuffle(new[] { "name", "version_number", "creation_timestamp", "last_updated_timestamp" })
        .Select(Gen.Int[0, 4], Gen.Bool.Array[4], (fields, count, descending) =>
            fields.Take(count).Select((f, i) => descending[i] ? f + " DESC" : f).ToArray());

    [Fact]
    public void paging_with_tokens_yields_the_whole_ordered_result_once()
    {
        Gen.Select(AnyVersions, AnyOrder, Gen.Int[1, 4]).Sample((versions, orderBy, pageSize) =>
        {
            var filter = SearchFilter.Empty(SearchEntity.ModelVersions);
            var keys = Order(SearchEntity.ModelVersions, orderBy);
            var whole = SearchEvaluator.Search(versions, filter, keys, null, int.MaxValue);
            var paged = new List<SearchSubject>();
            string? token = null;
            for (var pages = 0; pages <= versions.Length + 1; pages++)
            {
                Assert.True(PageTokens.TryDecode(token, filter, keys, out var after, out var problem), problem?.Message);
                var page = SearchEvaluator.Search(versions, filter, keys, after, pageSize + 1);
                paged.AddRange(page.Take(pageSize));
                if (page.Count <= pageSize) break;
                token = PageTokens.Encode(filter, keys, SearchEvaluator.SortValues(page[pageSize - 1], keys));
            }
            Assert.Equal(whole, paged);
            Assert.Equal(versions.Length, whole.Count);
            for (var i = 1; i < whole.Count; i++)
                Assert.True(SearchEvaluator.Compare(SearchEvaluator.SortValues(whole[i - 1], keys), SearchEvaluator.SortValues(whole[i], keys), keys) < 0);
        });
    }
}
