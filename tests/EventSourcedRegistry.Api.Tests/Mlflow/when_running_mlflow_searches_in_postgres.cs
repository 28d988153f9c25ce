using CsCheck;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Mlflow.Search;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Marten;
using Marten.Services;
using EventSourcedRegistry.Api.Mlflow;
using EventSourcedRegistry.Api.Models.Listing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// The SQL translation of MLflow searches (issue 14, item 4) selects, orders and pages in PostgreSQL exactly what the
/// pure evaluator does in memory, over random views and random filters: the views as Marten stores them (camel-cased
/// JSON, tags as an object), the translation run through Marten's raw SQL query with its <c>?</c> placeholders.
/// </summary>
public sealed class when_running_mlflow_searches_in_postgres(AppFixture app) : ApiTest(app)
{
    private static readonly string Tenant = WorkspaceId.Default.TenantId;

    private static Gen<string> Pick(params string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    // Values from a small pool, so filters and records meet often; ASCII and non-ASCII case pairs, quotes, a backslash.
    private static readonly string[] Pool = ["", "a", "A", "ab", "aB", "a_b", "a%b", "é", "É", "true", "TRUE", "false", "x'y", "x\\y"];
    private static readonly string[] Patterns = ["%", "a%", "A%", "%b", "_", "__", "a_", "%é%", "É%", "t%", "x\\%"];

    private static readonly Gen<string> AnyText = Gen.Frequency(
        (4, Pick(Pool)),
        (1, Gen.String[Gen.Char["aAb_%'\\ .é\""], 0, 3]));

    private static readonly Gen<string> AnyValue = Gen.Frequency(
            (3, Pick(Pool)),
            (2, Pick(Patterns)),
            (1, Gen.String[Gen.Char["aAb_%'\\ .é\""], 0, 3]))
        .Where(t => !(t.Contains('\'') && t.Contains('"')));

    private static readonly Gen<string> AnyKey = Gen.OneOf(Gen.Const("k"), Gen.Const("Team"), Gen.Const("a.b"), Gen.Const(SearchFilter.IsPromptTag));

    private static readonly Gen<Dictionary<string, string>> AnyTags =
        Gen.Select(AnyKey, AnyText).Array[0, 4].Select(pairs => pairs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2));

    private sealed record Row(string Name, Dictionary<string, string> Tags, (string? RunId, string? Source, Dictionary<string, string> Tags)[] Versions);

    private static readonly Gen<Row[]> AnyRegistry =
        Gen.Select(Gen.Frequency((3, Pick("a", "A-b", "ab", "b_a", "é", "Éa", "ba", "a.b")), (1, Gen.String[Gen.Char["aAbé_-"], 1, 3])), AnyTags,
                Gen.Select(Gen.OneOf(Gen.Const((string?)null), AnyText.Select(t => (string?)t)), Gen.OneOf(Gen.Const((string?)null), AnyText.Select(t => (string?)("s3://" + t))), AnyTags)
                    .Array[0, 3],
                (name, tags, versions) => new Row(name, tags, versions))
            .Array[4, 14]
            .Select(rows => rows.DistinctBy(r => InputRules.NormalizeName(r.Name)).ToArray());

    private static Comparator Text(int pick) => pick switch { 0 => Comparator.Equal, 1 => Comparator.NotEqual, 2 => Comparator.Like, _ => Comparator.ILike };

    private static readonly Gen<FilterClause> AnyTagClause =
        Gen.Select(AnyKey, Gen.Int[0, 3], AnyValue, (key, c, value) => new FilterClause(new FilterField.Tag(key), Text(c), new FilterValue.Text(value)));

    private static readonly Gen<FilterClause> AnyNameClause =
        Gen.Select(Gen.Int[0, 3], Gen.OneOf(AnyValue, Pick("a", "A-b", "ab", "b_a", "é", "Éa", "ba", "a.b")),
            (c, value) => new FilterClause(new FilterField.Attribute(FilterAttribute.Name), Text(c), new FilterValue.Text(value)));

    private static readonly Gen<FilterClause> AnyVersionClause = Gen.OneOf(
        AnyTagClause,
        AnyNameClause,
        Gen.Select(Gen.Int[0, 1], Gen.Int[0, 3], AnyValue, (a, c, value) => new FilterClause(
            new FilterField.Attribute(a == 0 ? FilterAttribute.RunId : FilterAttribute.SourcePath), Text(c), new FilterValue.Text(a == 0 ? value : "s3://" + value))),
        AnyValue.Array[1, 3].Select(values => new FilterClause(new FilterField.Attribute(FilterAttribute.RunId), Comparator.In, new FilterValue.List(values))),
        Gen.Select(Gen.Int[0, 5], Gen.OneOf(Gen.Int[0, 4].Select(n => (FilterValue)new FilterValue.Number(n)), Gen.Const<FilterValue>(new FilterValue.Number(1.5m)),
                Gen.Const<FilterValue>(new FilterValue.Text("2")), Gen.Const<FilterValue>(new FilterValue.Text("x"))),
            (c, value) => new FilterClause(new FilterField.Attribute(FilterAttribute.VersionNumber), (Comparator)c, value)));

    private static readonly Gen<string[]> AnyOrder = Gen.Select(Gen.Int[0, 2], Gen.Bool, Gen.Bool, (pick, nameDescending, versionDescending) => pick switch
    {
        0 => Array.Empty<string>(),
        1 => [nameDescending ? "name DESC" : "name"],
        _ => [versionDescending ? "version_number DESC" : "version_number ASC", nameDescending ? "name DESC" : "name ASC"],
    });

    /// <summary>Searches whose result was neither empty nor everything: the agreement was tested on real choices.</summary>
    private int _discriminating;

    [Fact]
    public void model_searches_select_and_order_in_sql_what_the_evaluator_does()
    {
        Gen.Select(AnyRegistry, Gen.OneOf(AnyTagClause, AnyNameClause).Array[1, 2].Array[12], Gen.Bool)
            .Sample((registry, filters, descending) => CheckModels(registry, filters, descending).GetAwaiter().GetResult(), iter: 4, threads: 1);
        Assert.True(_discriminating >= 3, $"only {_discriminating} searches selected some but not all models");
    }

    [Fact]
    public void version_searches_select_order_and_page_in_sql_what_the_evaluator_does()
    {
        Gen.Select(AnyRegistry, AnyVersionClause.Array[1, 2].Array[12], AnyOrder, Gen.Int[2, 5])
            .Sample((registry, filters, orderBy, pageSize) => CheckVersions(registry, filters, orderBy, pageSize).GetAwaiter().GetResult(), iter: 4, threads: 1);
        Assert.True(_discriminating >= 3, $"only {_discriminating} searches selected some but not all versions");
    }

    [Fact]
    public async Task the_recorded_client_clause_keeps_models_without_the_prompt_tag()
    {
        var registry = new[]
        {
            new Row("plain", new Dictionary<string, string>(), []),
            new Row("tagged", new Dictionary<string, string> { ["Team"] = "risk" }, []),
            new Row("prompt", new Dictionary<string, string> { [SearchFilter.IsPromptTag] = "true" }, []),
        };
        Assert.True(FilterParser.TryParse("tag.`mlflow.prompt.is_prompt` != 'true'", SearchEntity.RegisteredModels, out var notAPrompt, out _));
        Assert.True(FilterParser.TryParse("tags.Team != 'ops'", SearchEntity.RegisteredModels, out var notOps, out _));
        Assert.True(SearchOrder.TryParse([], SearchEntity.RegisteredModels, out var keys, out _));
        await Given(registry);
        Assert.Equal(["plain", "tagged"], await ModelsInSql(notAPrompt, keys, null, 100));
        // Another tag's != needs the tag (MLflow's tag join): only the model that has it.
        Assert.Equal(["tagged"], await ModelsInSql(notOps, keys, null, 100));
    }

    [Fact]
    public async Task a_tag_filtered_model_search_reads_the_tag_index_not_every_view()
    {
        // Many models, a tag on a few of them: the MLflow route's statement must drive from model_tags' pair index.
        await using (var session = Store.LightweightSession(Tenant))
        {
            session.DeleteWhere<ModelVersionView>(_ => true);
            session.DeleteWhere<ModelView>(_ => true);
            for (var i = 0; i < 3000; i++)
            {
                var name = $"m-{i:D5}";
                session.Store(new ModelView
                {
                    Id = Guid.NewGuid(), Name = name, NormalizedName = InputRules.NormalizeName(name),
                    Tags = new Dictionary<string, string> { ["team"] = i % 100 == 0 ? "rare" : "common" },
                });
            }
            await session.SaveChangesAsync();
        }
        var data = Host.Services.GetRequiredService<TagListing>().Data;
        await using (var analyze = data.CreateCommand($"analyze {RegistryStore.Schema}.mt_doc_modelview; analyze {RegistryStore.Schema}.{ModelTagIndex.Table}"))
            await analyze.ExecuteNonQueryAsync();

        var query = new QueryCollection(new Dictionary<string, Microsoft.Extensions.Primitives.StringValues>
        {
            ["filter"] = "tags.team = 'rare' AND tag.`mlflow.prompt.is_prompt` != 'true'", ["max_results"] = "100",
        });
        var (request, error) = MlflowSearch.Read(query, SearchEntity.RegisteredModels, Tenant);
        Assert.Null(error);
        var (sql, args, byTag) = MlflowSearch.ModelsQuery(Tenant, request!, null);
        Assert.True(byTag);
        // On the route's own connections (TagListing: sorting off), as the route runs it.
        // Marten's raw queries take only a select: EXPLAIN goes through Npgsql, its ? placeholders numbered (the SQL has
        // no other ?: jsonb_exists stands for the ? operator).
        var position = 0;
        var numbered = System.Text.RegularExpressions.Regex.Replace(sql, @"\?", _ => "$" + ++position);
        await using var connection = await data.OpenConnectionAsync();
        await using var explain = new Npgsql.NpgsqlCommand("explain " + numbered, connection);
        foreach (var arg in args) explain.Parameters.Add(new Npgsql.NpgsqlParameter { Value = arg });
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(0));
        var text = string.Join("\n", plan);
        Assert.Contains("ix_model_tags_pair_name", text);
        Assert.DoesNotContain("Seq Scan", text);
        var options = SessionOptions.ForConnection(connection);
        options.TenantId = Tenant;
        await using var reading = Store.QuerySession(options);
        Assert.Equal(30, (await reading.QueryAsync<ModelView>(sql, args)).Count);
    }

    private async Task CheckModels(Row[] registry, FilterClause[][] filters, bool descending)
    {
        var subjects = await Given(registry);
        Assert.True(SearchOrder.TryParse(descending ? ["name DESC"] : [], SearchEntity.RegisteredModels, out var keys, out _));
        foreach (var clauses in filters)
        {
            var filter = new SearchFilter(SearchEntity.RegisteredModels, clauses);
            var expected = SearchEvaluator.Search(subjects.Models, filter, keys, null, int.MaxValue).Select(s => s.Name).ToList();
            if (expected.Count > 0 && expected.Count < subjects.Models.Count) _discriminating++;
            Assert.True(expected.SequenceEqual(await ModelsInSql(filter, keys, null, 1000)), $"filter: {filter}");
        }
    }

    private async Task CheckVersions(Row[] registry, FilterClause[][] filters, string[] orderBy, int pageSize)
    {
        var subjects = await Given(registry);
        Assert.True(SearchOrder.TryParse(orderBy, SearchEntity.ModelVersions, out var keys, out _));
        foreach (var clauses in filters)
        {
            var filter = new SearchFilter(SearchEntity.ModelVersions, clauses);
            var expected = SearchEvaluator.Search(subjects.Versions, filter, keys, null, int.MaxValue).Select(Label).ToList();
            if (expected.Count > 0 && expected.Count < subjects.Versions.Count) _discriminating++;
            Assert.True(expected.SequenceEqual(await VersionsInSql(filter, keys, null, 1000)), $"filter: {filter}; order: {string.Join(", ", keys)}");

            // Page by page through tokens: the same list, each row once.
            var paged = new List<string>();
            IReadOnlyList<object>? after = null;
            for (var pages = 0; pages <= expected.Count; pages++)
            {
                var page = await VersionsInSql(filter, keys, after, pageSize + 1);
                paged.AddRange(page.Take(pageSize));
                if (page.Count <= pageSize) break;
                var last = subjects.Versions.Single(s => Label(s) == page[pageSize - 1]);
                var token = PageTokens.Encode(filter, keys, SearchEvaluator.SortValues(last, keys));
                Assert.True(PageTokens.TryDecode(token, filter, keys, out after, out var problem), problem?.Message);
            }
            Assert.Equal(expected, paged);
        }
    }

    private static string Label(SearchSubject subject) => $"{subject.Name}/{subject.Version}";

    private async Task<(List<SearchSubject> Models, List<SearchSubject> Versions)> Given(Row[] registry)
    {
        var models = new List<SearchSubject>();
        var versions = new List<SearchSubject>();
        await using var session = Store.LightweightSession(Tenant);
        session.DeleteWhere<ModelVersionView>(_ => true);
        session.DeleteWhere<ModelView>(_ => true);
        foreach (var row in registry)
        {
            var id = Guid.NewGuid();
            session.Store(new ModelView
            {
                Id = id, Name = row.Name, NormalizedName = InputRules.NormalizeName(row.Name), Tags = row.Tags,
                LatestVersion = row.Versions.Length,
            });
            models.Add(new SearchSubject(row.Name, row.Tags));
            for (var i = 0; i < row.Versions.Length; i++)
            {
                var (runId, source, tags) = row.Versions[i];
                session.Store(new ModelVersionView
                {
                    Id = ModelVersionView.Key(id, i + 1), ModelId = id, VersionNumber = i + 1, Stage = "None",
                    Artifact = new ArtifactReference(source, new string('0', 64), null),
                    Lineage = runId is null ? null : new Lineage(runId, null, null, null),
                    Tags = tags,
                });
                versions.Add(new SearchSubject(row.Name, tags, i + 1, runId, source, row.Tags));
            }
        }
        await session.SaveChangesAsync();
        return (models, versions);
    }

    private async Task<List<string>> ModelsInSql(SearchFilter filter, IReadOnlyList<SortKey> keys, IReadOnlyList<object>? after, int limit)
    {
        var columns = SearchColumns.Models();
        var where = SearchSql.Where(filter, columns);
        var parameters = new List<object> { Tenant };
        parameters.AddRange(where.Parameters);
        var sql = $"select d.data ->> 'name' from {RegistryStore.Schema}.mt_doc_modelview as d where d.tenant_id = ? and {where.Sql}";
        if (after is not null)
        {
            var position = SearchSql.After(keys, after, columns);
            sql += $" and {position.Sql}";
            parameters.AddRange(position.Parameters);
        }
        sql += $" order by {SearchSql.OrderBy(keys, columns)} limit {limit}";
        await using var session = Store.QuerySession(Tenant);
        return (await session.QueryAsync<string>(sql, parameters.ToArray())).ToList();
    }

    private async Task<List<string>> VersionsInSql(SearchFilter filter, IReadOnlyList<SortKey> keys, IReadOnlyList<object>? after, int limit)
    {
        var columns = SearchColumns.Versions();
        var where = SearchSql.Where(filter, columns);
        var parameters = new List<object> { Tenant };
        parameters.AddRange(where.Parameters);
        var sql = $"select (m.data ->> 'name') || '/' || (v.data ->> 'versionNumber') from {RegistryStore.Schema}.mt_doc_modelversionview as v " +
                  $"join {RegistryStore.Schema}.mt_doc_modelview as m on m.tenant_id = v.tenant_id and m.id = v.model_id " +
                  $"where v.tenant_id = ? and {where.Sql}";
        if (after is not null)
        {
            var position = SearchSql.After(keys, after, columns);
            sql += $" and {position.Sql}";
            parameters.AddRange(position.Parameters);
        }
        sql += $" order by {SearchSql.OrderBy(keys, columns)} limit {limit}";
        await using var session = Store.QuerySession(Tenant);
        return (await session.QueryAsync<string>(sql, parameters.ToArray())).ToList();
    }
}
