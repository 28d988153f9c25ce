using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Mlflow;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// MLflow's <c>registered-models/search</c> and <c>model-versions/search</c> over the registry's views (issue 14, item 4):
/// filters, order, keyset page tokens bound to their search and workspace, hostile input answered in MLflow's words,
/// and grants applied inside the query.
/// </summary>
public sealed class when_searching_through_mlflow(AppFixture app) : MlflowTest(app)
{
    private const string NotAPrompt = "tag.`mlflow.prompt.is_prompt` != 'true'";

    private sealed record Seed(string A, string B, Credential AdminA, Credential AdminB, Credential ScopedToFraud);

    /// <summary>
    /// The workspaces host is reset before each test, so the data is seeded once and every behaviour below is checked
    /// against it in one test (each check's assertions name what failed).
    /// </summary>
    [Fact]
    public async Task searches_filter_order_page_refuse_and_respect_grants_as_mlflow_does()
    {
        var seed = await SeedAsync();
        await Filters_select_what_mlflow_would_and_a_model_without_the_prompt_tag_is_no_prompt(seed);
        await Order_by_and_page_tokens_walk_each_row_once_and_a_token_only_fits_its_own_search(seed);
        await Hostile_filters_and_limits_are_refused_in_mlflow_words_never_a_fault(seed);
        await A_caller_scoped_to_one_model_finds_only_it_and_another_workspace_finds_nothing(seed);
    }

    private async Task<Seed> SeedAsync()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        var adminA = Credential.Bearer(await KeyIn(a, "admin"));
        var adminB = Credential.Bearer(await KeyIn(b, "admin"));
        async Task Call(string ws, Credential key, HttpMethod method, string endpoint, object fields)
        {
            var answer = await Mlflow(ws, method, endpoint, fields, key);
            Assert.True(answer.Status == 200, $"{endpoint}: {answer.Status} {answer.Body}");
        }
        object[] Tags(params (string Key, string Value)[] tags) => tags.Select(t => (object)new { key = t.Key, value = t.Value }).ToArray();

        await Call(a, adminA, HttpMethod.Post, "registered-models/create", new { name = "churn-baseline", tags = Tags(("team", "risk")) });
        await Call(a, adminA, HttpMethod.Post, "registered-models/create", new { name = "Churn-Classifier", tags = Tags(("team", "risk"), ("a.b", "dotted")) });
        await Call(a, adminA, HttpMethod.Post, "model-versions/create",
            new { name = "Churn-Classifier", source = "s3://bucket/churn/1", run_id = "r1", tags = Tags(("framework", "sklearn")) });
        await Call(a, adminA, HttpMethod.Post, "model-versions/create", new { name = "Churn-Classifier", source = "s3://bucket/churn/2", run_id = "r2" });
        await Call(a, adminA, HttpMethod.Post, "registered-models/create", new { name = "fraud", tags = Tags(("team", "ops")) });
        await Call(a, adminA, HttpMethod.Post, "model-versions/create", new { name = "fraud", source = "s3://bucket/fraud/1", run_id = "r1" });
        await Call(a, adminA, HttpMethod.Post, "registered-models/create", new { name = "a-prompt", tags = Tags(("mlflow.prompt.is_prompt", "true"), ("team", "risk")) });
        await Call(a, adminA, HttpMethod.Post, "model-versions/create", new { name = "a-prompt", source = "s3://bucket/prompt/1", run_id = "r1" });
        await Call(b, adminB, HttpMethod.Post, "registered-models/create", new { name = "churn-elsewhere", tags = Tags(("team", "risk")) });

        var made = await Send(HttpMethod.Post, $"/api/v1/workspaces/{a}/admin/keys",
            new { name = $"scoped-{Guid.NewGuid():N}", owner = $"scoped-{Guid.NewGuid():N}", grants = new[] { new { role = "reader", model = "fraud" } } }, workspaces: a);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return new Seed(a, b, adminA, adminB, Credential.Bearer(made.Body!["key"]!.GetValue<string>()));
    }

    /// <summary>A search as the client sends it: fields in the query string, repeated keys for order_by.</summary>
    private async Task<RegistryCalls.Response> Search(string ws, Credential key, string endpoint, params (string Field, string Value)[] fields)
    {
        var query = string.Join("&", fields.Select(f => $"{Uri.EscapeDataString(f.Field)}={Uri.EscapeDataString(f.Value)}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/workspaces/{ws}/api/2.0/mlflow/{endpoint}/search?{query}");
        request.Headers.Authorization = new AuthenticationHeaderValue(key.Scheme, key.Value);
        using var client = Host.Server.CreateClient();
        return await RegistryCalls.Read(await client.SendAsync(request));
    }

    private Task<RegistryCalls.Response> Models(string ws, Credential key, string? filter, params (string, string)[] more) =>
        Search(ws, key, "registered-models", [("filter", filter is null ? NotAPrompt : $"{filter} AND {NotAPrompt}"), ("max_results", "100"), .. more]);

    private Task<RegistryCalls.Response> Versions(string ws, Credential key, string? filter, params (string, string)[] more) =>
        Search(ws, key, "model-versions", [.. filter is null ? Array.Empty<(string, string)>() : [("filter", filter)], ("max_results", "10000"), .. more]);

    private static List<string> Names(RegistryCalls.Response answer, string list = "registered_models")
    {
        Assert.True(answer.Status == 200, $"{answer.Status} {answer.Body}");
        return answer.Body![list]?.AsArray().Select(m => list == "registered_models"
            ? m!["name"]!.GetValue<string>()
            : $"{m!["name"]!.GetValue<string>()}/{m["version"]!.GetValue<string>()}").ToList() ?? [];
    }

    private async Task Filters_select_what_mlflow_would_and_a_model_without_the_prompt_tag_is_no_prompt(Seed s)
    {
        Assert.Equal(["churn-baseline", "Churn-Classifier", "fraud"], Names(await Models(s.A, s.AdminA, null)));
        Assert.Equal(["churn-baseline", "Churn-Classifier"], Names(await Models(s.A, s.AdminA, "tags.team = 'risk'")));
        Assert.Equal(["Churn-Classifier"], Names(await Models(s.A, s.AdminA, "tags.`a.b` = 'dotted' AND name LIKE 'Churn%'")));
        Assert.Equal(["churn-baseline", "Churn-Classifier"], Names(await Models(s.A, s.AdminA, "name ILIKE 'CHURN-%'")));
        Assert.Equal(["churn-baseline", "fraud"], Names(await Models(s.A, s.AdminA, "name != 'Churn-Classifier'")));
        // != on another tag needs the tag (MLflow's tag join).
        Assert.Equal(["churn-baseline", "Churn-Classifier"], Names(await Models(s.A, s.AdminA, "tags.team != 'ops'")));
        Assert.Equal(["a-prompt"], Names(await Search(s.A, s.AdminA, "registered-models", ("filter", "tags.`mlflow.prompt.is_prompt` = 'true'"))));

        // Versions of prompts stay out unless asked for.
        Assert.Equal(["Churn-Classifier/1", "fraud/1"], Names(await Versions(s.A, s.AdminA, "run_id = 'r1'"), "model_versions"));
        Assert.Equal(["Churn-Classifier/2", "Churn-Classifier/1", "fraud/1"], Names(await Versions(s.A, s.AdminA, "run_id IN ('r1', 'r2')"), "model_versions"));
        Assert.Equal(["Churn-Classifier/2"], Names(await Versions(s.A, s.AdminA, "name = 'Churn-Classifier' AND version_number >= 2"), "model_versions"));
        Assert.Equal(["Churn-Classifier/1"], Names(await Versions(s.A, s.AdminA, "tags.framework = 'sklearn'"), "model_versions"));
        Assert.Equal(["fraud/1"], Names(await Versions(s.A, s.AdminA, "source_path LIKE 's3://bucket/f%'"), "model_versions"));
        Assert.Empty(Names(await Versions(s.A, s.AdminA, "version_number > 'x'"), "model_versions"));

        // The timestamps a search answers are the ones get answers (both read off the events).
        var found = (await Models(s.A, s.AdminA, "name = 'Churn-Classifier'")).Body!["registered_models"]![0]!;
        var got = (await Mlflow(s.A, HttpMethod.Get, "registered-models/get", new { name = "Churn-Classifier" }, s.AdminA)).Body!["registered_model"]!;
        // …and the ones folded from the model's stream in memory (the definition the SQL follows).
        await using (var session = Store.QuerySession(s.A))
        {
            var id = (await session.Query<EventSourcedRegistry.Models.ModelView>().SingleAsync(m => m.NormalizedName == "churn-classifier")).Id;
            var folded = MlflowTimes.Fold(await session.Events.FetchStreamAsync(id));
            var latest = found["latest_versions"]![0]!;
            var (created, updated) = folded.Of(int.Parse(latest["version"]!.GetValue<string>()));
            Assert.Equal((folded.Created, folded.Updated), (found["creation_timestamp"]!.GetValue<long>(), found["last_updated_timestamp"]!.GetValue<long>()));
            Assert.Equal((created, updated), (latest["creation_timestamp"]!.GetValue<long>(), latest["last_updated_timestamp"]!.GetValue<long>()));
        }
        foreach (var field in new[] { "creation_timestamp", "last_updated_timestamp" })
        {
            Assert.True(got[field]!.GetValue<long>() == found[field]!.GetValue<long>(), $"{field}: get {got}, search {found}");
            Assert.True(got["latest_versions"]![0]![field]!.GetValue<long>() == found["latest_versions"]![0]![field]!.GetValue<long>(), $"{field}: get {got}, search {found}");
        }
    }

    private async Task Order_by_and_page_tokens_walk_each_row_once_and_a_token_only_fits_its_own_search(Seed s)
    {
        Assert.Equal(["fraud", "Churn-Classifier", "churn-baseline"], Names(await Models(s.A, s.AdminA, null, ("order_by", "name DESC"))));
        // fraud was changed last; the others tie-break by name.
        Assert.Equal("fraud", Names(await Models(s.A, s.AdminA, null, ("order_by", "last_updated_timestamp DESC")))[0]);
        Assert.Equal(["Churn-Classifier/1", "Churn-Classifier/2", "fraud/1"],
            Names(await Versions(s.A, s.AdminA, null, ("order_by", "name ASC"), ("order_by", "version_number ASC")), "model_versions"));
        // Ordered by time, the times shown run in that order (the order reads the same events the answer shows).
        foreach (var (endpoint, list, field) in new[]
                 {
                     ("registered-models", "registered_models", "creation_timestamp"), ("registered-models", "registered_models", "last_updated_timestamp"),
                     ("model-versions", "model_versions", "creation_timestamp"), ("model-versions", "model_versions", "last_updated_timestamp"),
                 })
        {
            var shown = (await Search(s.A, s.AdminA, endpoint, ("order_by", $"{field} DESC"))).Body![list]!.AsArray()
                .Select(m => m![field]!.GetValue<long>()).ToList();
            Assert.True(shown.Count >= 3 && shown.SequenceEqual(shown.OrderDescending()), $"{endpoint} by {field} DESC: {string.Join(", ", shown)}");
        }

        // Page by page through the tag-indexed plan and through the plain one.
        foreach (var filter in new[] { "tags.team = 'risk'", null })
        {
            var walked = new List<string>();
            string? token = null;
            for (var page = 0; page < 5; page++)
            {
                var answer = await Search(s.A, s.AdminA, "registered-models",
                    [("filter", filter is null ? NotAPrompt : $"{filter} AND {NotAPrompt}"), ("max_results", "1"), .. token is null ? Array.Empty<(string, string)>() : [("page_token", token)]]);
                walked.AddRange(Names(answer));
                token = answer.Body!["next_page_token"]?.GetValue<string>();
                if (token is null) break;
            }
            Assert.Equal(Names(await Models(s.A, s.AdminA, filter)), walked);
        }

        var first = await Models(s.A, s.AdminA, null, ("max_results", "1"));
        var valid = first.Body!["next_page_token"]!.GetValue<string>();
        var tampered = valid[..^2] + (valid[^2] == 'A' ? "B" : "A") + valid[^1];
        var offset = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"offset\": 1}"));
        foreach (var (ws, key, filter, token) in new[]
                 {
                     (s.A, s.AdminA, "tags.team = 'risk'", valid), // another filter
                     (s.A, s.AdminA, (string?)null, tampered),
                     (s.A, s.AdminA, null, offset), // the reference server's kind: forgeable, so not taken
                     (s.A, s.AdminA, null, "not-a-token"),
                     (s.A, s.AdminA, null, new string('A', 5000)),
                     (s.B, s.AdminB, null, valid), // workspace A's token in workspace B
                 })
        {
            var refused = await Models(ws, key, filter, ("page_token", token));
            Assert.True(refused.Status == 400 && ErrorCode(refused) == "INVALID_PARAMETER_VALUE", $"{token[..Math.Min(20, token.Length)]}: {refused.Status} {refused.Body}");
        }
    }

    private async Task Hostile_filters_and_limits_are_refused_in_mlflow_words_never_a_fault(Seed s)
    {
        var before = await EventsIn(s.A);
        var hugeIn = "run_id IN (" + string.Join(", ", Enumerable.Range(0, 1000).Select(i => $"'r{i}'")) + ")";
        Assert.Equal(["Churn-Classifier/2", "Churn-Classifier/1", "fraud/1"], Names(await Versions(s.A, s.AdminA, hugeIn), "model_versions"));
        var refusals = new (string Endpoint, (string, string)[] Fields)[]
        {
            ("registered-models", [("filter", "name = 'x'; drop table registry.mt_doc_modelview; --")]),
            ("registered-models", [("filter", "name = 'x' OR 1=1")]),
            ("registered-models", [("filter", "name = 'unterminated")]),
            ("registered-models", [("filter", "name = 'it''s'")]),
            ("registered-models", [("filter", "tags.`unterminated = 'x'")]),
            ("registered-models", [("filter", "name = 'x\0'")]),
            ("registered-models", [("filter", new string('(', 20_000))]),
            ("model-versions", [("filter", "run_id IN (" + string.Join(", ", Enumerable.Range(0, 5000).Select(i => $"'r{i}'")) + ")")]),
            ("model-versions", [("filter", "version_number > 1e400")]),
            ("model-versions", [("filter", "current_stage = 'Production'")]),
            ("registered-models", [("max_results", "1001")]),
            ("registered-models", [("max_results", "0")]),
            ("registered-models", [("max_results", "-5")]),
            ("registered-models", [("max_results", "99999999999999999999")]),
            ("model-versions", [("max_results", "200001")]),
            ("model-versions", [("max_results", "abc")]),
            ("registered-models", [("order_by", "name; drop table x")]),
            ("registered-models", [("order_by", "name"), ("order_by", "name DESC")]),
            ("model-versions", [("order_by", "run_id ASC")]),
        };
        foreach (var (endpoint, fields) in refusals)
        {
            var refused = await Search(s.A, s.AdminA, endpoint, fields);
            Assert.True(refused.Status == 400 && ErrorCode(refused) == "INVALID_PARAMETER_VALUE",
                $"{endpoint} {string.Join("&", fields.Select(f => f.Item1 + "=" + f.Item2[..Math.Min(40, f.Item2.Length)]))}: {refused.Status} {refused.Body}");
        }
        // The recorded wording for a limit over MLflow's.
        Assert.Equal(MlflowSearch.MaxResultsMessage("1001"),
            (await Search(s.A, s.AdminA, "registered-models", ("max_results", "1001"))).Body!["message"]!.GetValue<string>());
        Assert.Equal(before, await EventsIn(s.A));
        Assert.Equal(3, Names(await Models(s.A, s.AdminA, null)).Count);
    }

    private async Task A_caller_scoped_to_one_model_finds_only_it_and_another_workspace_finds_nothing(Seed s)
    {
        // Not in results, not in a next_page_token: with one row per page, fraud's page is the last.
        var scoped = await Models(s.A, s.ScopedToFraud, null, ("max_results", "1"));
        Assert.Equal(["fraud"], Names(scoped));
        Assert.Null(scoped.Body!["next_page_token"]);
        Assert.Empty(Names(await Models(s.A, s.ScopedToFraud, "tags.team = 'risk'")));
        Assert.Equal(["fraud/1"], Names(await Versions(s.A, s.ScopedToFraud, "run_id IN ('r1', 'r2')"), "model_versions"));
        Assert.Equal("{}", (await Versions(s.A, s.ScopedToFraud, "name = 'Churn-Classifier'")).Body!.ToJsonString());

        // Workspace B sees its own model only, and B's key gets the unknown-route answer in A.
        Assert.Equal(["churn-elsewhere"], Names(await Models(s.B, s.AdminB, "tags.team = 'risk'")));
        var stranger = await Models(s.A, s.AdminB, null);
        Assert.Equal(404, stranger.Status);
        Assert.Equal("text/html", stranger.Raw.Content.Headers.ContentType?.MediaType);
    }
}
