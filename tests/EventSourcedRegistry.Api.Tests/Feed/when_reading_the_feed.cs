using System.Diagnostics;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Tests.Workspaces;
using EventSourcedRegistry.History;

namespace EventSourcedRegistry.Api.Tests.Feed;

/// <summary>
/// The pull feed (<c>GET /api/v1/feed</c>) against real PostgreSQL: each test in a workspace of its own, so its sequences
/// are its own. Events are served once settled, so a reader here asks with <c>wait</c> until it has what it expects.
/// </summary>
public sealed class when_reading_the_feed(AppFixture app) : WorkspaceTest(app)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private Task<RegistryCalls.Response> Feed(string ws, string query, string? key = AppFixture.AdminKey) =>
        Get($"/api/v1/workspaces/{ws}/feed?{query}", workspaces: ws, key: key);

    private static JsonArray Events(RegistryCalls.Response response)
    {
        Assert.True(response.Status == 200, $"{response.Status} {response.Body}");
        Assert.Equal("application/cloudevents-batch+json", response.Raw.Content.Headers.ContentType?.MediaType);
        return Assert.IsType<JsonArray>(response.Body);
    }

    private static long Next(RegistryCalls.Response response) => long.Parse(response.Header("Registry-Feed-Next")!);

    /// <summary>Pages from <paramref name="after"/> by the next cursor until <paramref name="count"/> events have come.</summary>
    private async Task<(List<JsonNode> Events, long Cursor, int Pages)> ReadUntil(string ws, int count, long after = 0, string query = "",
        string? key = AppFixture.AdminKey)
    {
        var seen = new List<JsonNode>();
        var pages = 0;
        var clock = Stopwatch.StartNew();
        while (seen.Count < count)
        {
            Assert.True(clock.Elapsed < Patience, $"only {seen.Count} of {count} events came: {new JsonArray(seen.Select(e => e.DeepClone()).ToArray())}");
            var response = await Feed(ws, $"after={after}&wait=5{query}", key);
            var page = Events(response);
            seen.AddRange(page.Select(e => e!.DeepClone()));
            var next = Next(response);
            Assert.True(next >= after, $"the cursor went back from {after} to {next}");
            after = next;
            pages++;
        }
        return (seen, after, pages);
    }

    private async Task Register(string ws, string name) =>
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models", new { name }, workspaces: ws)).Status);

    [Fact]
    public async Task events_come_back_in_order_as_cloud_events_with_a_stable_id_and_the_next_cursor()
    {
        var ws = await CreateWorkspace();
        await Register(ws, "churn");
        var version = await Post($"/api/v1/workspaces/{ws}/models/churn/versions",
            new { artifact = new { uri = "s3://b/churn.onnx", sha256 = RegistryCalls.Sha256B, sizeBytes = 1 } }, workspaces: ws);
        Assert.True(version.Status == 201, $"{version.Status} {version.Body}");
        await Register(ws, "fraud");

        var (events, cursor, _) = await ReadUntil(ws, 3);
        Assert.Equal(["model_registered", "model_version_registered", "model_registered"],
            events.Select(e => e["data"]!["eventType"]!.GetValue<string>()));
        Assert.Equal(["churn", "churn", "fraud"], events.Select(e => e["subject"]!.GetValue<string>()));
        var sequences = events.Select(e => long.Parse(e["sequence"]!.GetValue<string>())).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
        Assert.True(cursor >= sequences[^1]);
        foreach (var (e, sequence) in events.Zip(sequences))
        {
            Assert.Equal("1.0", e["specversion"]!.GetValue<string>());
            Assert.Equal($"{ws}-{sequence}", e["id"]!.GetValue<string>());
            Assert.Equal("io.eventsourcedregistry." + e["data"]!["eventType"]!.GetValue<string>(), e["type"]!.GetValue<string>());
            Assert.Equal(ws, e["workspace"]!.GetValue<string>());
            Assert.StartsWith($"/workspaces/{ws}/models/", e["source"]!.GetValue<string>());
            Assert.Equal(sequence, e["data"]!["sequence"]!.GetValue<long>());
        }
        Assert.Equal(1, events[1]["data"]!["version"]!.GetValue<int>());

        // Served again from the start: the same ids (a consumer deduplicates by them), and the Link names the next page.
        var again = await Feed(ws, "after=0&limit=2");
        Assert.Equal(events.Take(2).Select(e => e["id"]!.GetValue<string>()), Events(again).Select(e => e!["id"]!.GetValue<string>()));
        Assert.Equal(sequences[1], Next(again));
        Assert.Equal($"</api/v1/workspaces/{ws}/feed?limit=2&after={sequences[1]}>; rel=\"next\"", again.Header("Link"));
    }

    [Fact]
    public async Task each_event_carries_its_models_name_as_of_that_event_across_a_rename()
    {
        var ws = await CreateWorkspace();
        await Register(ws, "churn");
        var artifact = new { uri = "s3://b/churn.onnx", sha256 = RegistryCalls.Sha256B, sizeBytes = 1 };
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models/churn/versions", new { artifact }, workspaces: ws)).Status);
        await Register(ws, "fraud");
        var renamed = await Post($"/api/v1/workspaces/{ws}/models/churn/rename", new { newName = "customer-churn" }, workspaces: ws);
        Assert.True(renamed.Status == 200, $"{renamed.Status} {renamed.Body}");
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models/customer-churn/versions", new { artifact }, workspaces: ws)).Status);

        string[] types = ["model_registered", "model_version_registered", "model_registered", "model_renamed", "model_version_registered"];
        string[] names = ["churn", "churn", "fraud", "customer-churn", "customer-churn"];
        var (events, _, _) = await ReadUntil(ws, 5);
        Assert.Equal(types, events.Select(e => e["data"]!["eventType"]!.GetValue<string>()));
        Assert.Equal(names, events.Select(e => e["subject"]!.GetValue<string>()));

        // The same names from the events alone, where the deployment history holds no row for the model (until a rebuild repairs it).
        var deleted = await App.SqlOn(App.WorkspacesConnectionString,
            $"delete from registry.{DeploymentHistory.Table} where tenant_id = $1 and kind = 'name' and subject like '%churn'", ws);
        Assert.Equal(2, deleted);
        var again = Events(await Feed(ws, "after=0"));
        Assert.Equal(types, again.Select(e => e!["data"]!["eventType"]!.GetValue<string>()));
        Assert.Equal(names, again.Select(e => e!["subject"]!.GetValue<string>()));
    }

    [Fact]
    public async Task paging_by_the_next_cursor_visits_every_event_exactly_once()
    {
        var ws = await CreateWorkspace();
        var names = Enumerable.Range(1, 5).Select(i => $"model-{i}").ToList();
        foreach (var name in names) await Register(ws, name);

        var (events, cursor, pages) = await ReadUntil(ws, 5, query: "&limit=2");
        Assert.True(pages >= 3, $"5 events in pages of 2 came in {pages} pages");
        Assert.Equal(names, events.Select(e => e["subject"]!.GetValue<string>()));
        Assert.Equal(5, events.Select(e => e["id"]!.GetValue<string>()).Distinct().Count());

        var rest = await Feed(ws, $"after={cursor}");
        Assert.Empty(Events(rest));
        Assert.Equal(cursor, Next(rest));
    }

    [Fact]
    public async Task a_long_poll_answers_when_a_command_commits_during_the_wait_and_empty_when_nothing_does()
    {
        var ws = await CreateWorkspace();
        await Register(ws, "churn");
        var (_, cursor, _) = await ReadUntil(ws, 1);

        var clock = Stopwatch.StartNew();
        var empty = await Feed(ws, $"after={cursor}&wait=1");
        Assert.Empty(Events(empty));
        Assert.Equal(cursor, Next(empty));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"a wait of 1 s answered after {clock.Elapsed}");

        clock.Restart();
        var polling = Feed(ws, $"after={cursor}&wait=30");
        await Register(ws, "fraud");
        var answer = await polling;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the long poll answered after {clock.Elapsed}");
        var got = Assert.Single(Events(answer));
        Assert.Equal("fraud", got!["subject"]!.GetValue<string>());
        Assert.True(Next(answer) >= long.Parse(got["sequence"]!.GetValue<string>()));
    }

    [Fact]
    public async Task a_key_scoped_to_a_model_sees_only_that_models_events_and_no_other_models_name()
    {
        var ws = await CreateWorkspace();
        await Register(ws, "churn");
        await Register(ws, "fraud");
        await Register(ws, "spam");
        var made = await Post($"/api/v1/workspaces/{ws}/admin/keys",
            new { name = "churn-reader", owner = "churn-team", grants = new[] { new { role = "reader", model = "churn" } } }, workspaces: ws);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        var scoped = made.Body!["key"]!.GetValue<string>();

        // Everything has settled once the workspace reader sees all three; then the scoped key sees churn's alone.
        var (all, cursor, _) = await ReadUntil(ws, 3);
        var mine = Events(await Feed(ws, "after=0", scoped));
        Assert.Equal(["churn"], mine.Select(e => e!["subject"]!.GetValue<string>()));
        Assert.Equal(["churn"], Events(await Feed(ws, "after=0&model=churn", scoped)).Select(e => e!["subject"]!.GetValue<string>()));
        Assert.Equal(["fraud"], Events(await Feed(ws, "after=0&model=FRAUD")).Select(e => e!["subject"]!.GetValue<string>()));
        Assert.Equal(3, all.Count);

        // Another model's name answers exactly as a name no model holds.
        var hidden = (await Feed(ws, "after=0&model=fraud", scoped)).AssertProblem(404);
        var unknown = (await Feed(ws, "after=0&model=fraux", scoped)).AssertProblem(404);
        Assert.Equal(unknown["title"]!.GetValue<string>(), hidden["title"]!.GetValue<string>());
        Assert.Equal(unknown["detail"]!.GetValue<string>().Replace("fraux", "fraud"), hidden["detail"]!.GetValue<string>());
        Assert.DoesNotContain("spam", (await Feed(ws, $"after=0&wait=0", scoped)).Body!.ToJsonString());
    }

    [Fact]
    public async Task callers_outside_the_workspace_are_refused_without_a_hint()
    {
        var ws = await CreateWorkspace();
        var other = await CreateWorkspace();
        await Register(ws, "churn");
        var outsider = await KeyIn(other, "reader");

        Assert.Equal(401, (await Get($"/api/v1/workspaces/{ws}/feed", key: null)).Status);
        var refused = await Get($"/api/v1/workspaces/{ws}/feed?after=0", key: outsider);
        var missing = await Get("/api/v1/workspaces/no-such-workspace/feed?after=0", key: outsider);
        Assert.Equal(404, refused.Status);
        Assert.Equal(Fingerprint(missing), Fingerprint(refused));
        // Its own workspace's feed holds nothing of the other's.
        Assert.Empty(Events(await Get($"/api/v1/workspaces/{other}/feed?after=0", key: outsider)));
    }

    [Fact]
    public async Task hostile_input_is_refused_with_problem_details()
    {
        var ws = await CreateWorkspace();
        await Register(ws, "churn");
        var cases = new (string Query, string Field)[]
        {
            ("after=-1", "after"), ("after=abc", "after"), ("after=99999999999999999999999999", "after"), ("after=1e3", "after"),
            ("wait=31", "wait"), ("wait=-1", "wait"), ("wait=forever", "wait"), ("wait=99999999999999999999", "wait"),
            ("limit=0", "limit"), ("limit=1000000000", "limit"), ("limit=ten", "limit"),
            ("types=model_registered,no_such_type", "types"), ($"types={new string('a', 5000)}", "types"), ("types=ModelRegistered", "types"),
            ($"model={new string('m', 5000)}", "model"), ("model=%00", "model"),
        };
        foreach (var (query, field) in cases)
            (await Feed(ws, query)).AssertProblem(400, field);
        (await Feed(ws, "model=nosuch")).AssertProblem(404);

        // The edges are answers, not refusals.
        Assert.Empty(Events(await Feed(ws, $"after={long.MaxValue}&wait=0&limit=1000")));
        Assert.Equal(long.MaxValue, Next(await Feed(ws, $"after={long.MaxValue}")));
        Assert.Equal(200, (await Feed(ws, "types=model_registered&limit=1&wait=0s")).Status);
    }
}
