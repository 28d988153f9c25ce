using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Two workspaces hold a model of the same name with versions of the same numbers, each with a history of its own.
/// Guards the views kept in plain tables (deployment history, registry states, model snapshots, model tags): every row
/// carries its workspace and every read binds the request's, so no answer of one shows a row, a count or a sequence of
/// the other. Before workspaces these tables had no workspace at all, and every read saw every row.
/// </summary>
public sealed class when_two_workspaces_keep_history_of_the_same_models(AppFixture app) : ApiTest(app)
{
    private static readonly WorkspaceId TeamB = WorkspaceId.Parse("team-b");

    private WorkspaceClient _a = null!;
    private WorkspaceClient _b = null!;
    /// <summary>Each workspace's settled sequence right after its versions were registered, before any stage, alias or deployment.</summary>
    private long _aRegistered, _bRegistered;

    /// <summary>
    /// default: churn v1..v3 tagged team:fraud, v1 in Production, alias champion on v1, v1 deployed to prod.
    /// team-b: churn v1..v2 tagged team:growth, v2 in Staging, alias champion on v2, nothing deployed.
    /// </summary>
    private async Task Given()
    {
        _a = await WorkspaceClient.Open(Host, WorkspaceId.Default);
        _b = await WorkspaceClient.Open(Host, TeamB);

        await _a.Ok(_a.Post("/api/v1/models", new { name = "churn", tags = new Dictionary<string, string> { ["team"] = "fraud" } }), 201);
        await _b.Ok(_b.Post("/api/v1/models", new { name = "churn", tags = new Dictionary<string, string> { ["team"] = "growth" } }), 201);
        for (var i = 0; i < 3; i++) await _a.Ok(_a.Post("/api/v1/models/churn/versions", Version()), 201);
        for (var i = 0; i < 2; i++) await _b.Ok(_b.Post("/api/v1/models/churn/versions", Version()), 201);
        _aRegistered = await Last(WorkspaceId.Default);
        _bRegistered = await Last(TeamB);

        await _a.Ok(_a.Post("/api/v1/models/churn/versions/1/stage", new { stage = "Production", reason = "a goes live" }));
        await _b.Ok(_b.Post("/api/v1/models/churn/versions/2/stage", new { stage = "Staging", reason = "b tries" }));
        await _a.Ok(_a.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", Json(new { version = 1 }), "application/json"));
        await _b.Ok(_b.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", Json(new { version = 2 }), "application/json"));
        await _a.Ok(_a.Post("/api/v1/models/churn/deployments", new { version = 1, environment = "prod", action = "deployed" }));
        await Settled(WorkspaceId.Default);
        await Settled(TeamB);
    }

    /// <summary>The workspace's newest event's sequence, straight from its partition of the event table.</summary>
    private async Task<long> Last(WorkspaceId workspace) =>
        (await App.SqlList<long>($"select coalesce(max(seq_id), 0) from {RegistryStore.Schema}.mt_events where tenant_id = $1", workspace.TenantId))[0];

    /// <summary>Waits (generously: the machine is shared) until the workspace's high-water mark has passed its newest event.</summary>
    private async Task Settled(WorkspaceId workspace)
    {
        var target = await Last(workspace);
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long mark;
        while ((mark = await StorePosition.HighWaterMark(data, RegistryStore.Schema, workspace, CancellationToken.None)) < target)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{workspace}'s high-water mark stayed at {mark}; its newest event is {target}.");
            await Task.Delay(50);
        }
    }

    private static object Version() =>
        new { artifact = new { uri = $"s3://models/{Guid.NewGuid():N}.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1234 } };

    private static byte[] Json(object body) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(body);

    private static async Task<long> Now(WorkspaceClient calls) =>
        (await calls.Ok(calls.Get("/api/v1/registry"))).Body!["asOfSequence"]!.GetValue<long>();

    [Fact]
    public async Task each_deployment_history_holds_only_its_own_intervals()
    {
        await Given();

        var a = (await _a.Ok(_a.Get("/api/v1/models/churn/deployments"))).Body!["items"]!.AsArray();
        var b = (await _b.Ok(_b.Get("/api/v1/models/churn/deployments"))).Body!["items"]!.AsArray();

        Assert.Equal(["stage:1:None", "stage:2:None", "stage:3:None", "stage:1:Production", "deployment:1:prod"], a.Select(Describe));
        Assert.Equal(["stage:1:None", "stage:2:None", "stage:2:Staging"], b.Select(Describe));
        Assert.Equal("b tries", b[2]!["entered"]!["reason"]!.GetValue<string>());
        // The name resolves to the workspace's own model as of a point too (the name intervals are the workspace's).
        var pastB = (await _b.Ok(_b.Get($"/api/v1/models/churn/deployments?atSequence={_bRegistered}"))).Body!["items"]!.AsArray();
        Assert.Equal(["stage:1:None", "stage:2:None"], pastB.Select(Describe));
    }

    /// <summary>
    /// Guards the deployment history's cursor: it was the row's id, drawn from one sequence for every workspace, so the
    /// gaps between a workspace's cursors counted the other workspaces' intervals. It is the interval's own sequence now.
    /// </summary>
    [Fact]
    public async Task a_deployment_history_cursor_is_the_workspaces_own_sequence_and_pages_through_its_intervals()
    {
        await Given();

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await _b.Ok(_b.Get("/api/v1/models/churn/deployments?limit=1" + (cursor is null ? "" : $"&cursor={cursor}")))).Body!;
            var item = Assert.Single(page["items"]!.AsArray())!;
            seen.Add(Describe(item));
            cursor = page["nextCursor"]?.GetValue<string>();
            if (cursor is not null) Assert.Equal(item["entered"]!["sequence"]!.GetValue<long>().ToString(), cursor);
        } while (cursor is not null);

        Assert.Equal(["stage:1:None", "stage:2:None", "stage:2:Staging"], seen);
    }

    private static string Describe(JsonNode? interval) =>
        $"{interval!["kind"]}:{interval["version"]}:{interval["stage"] ?? interval["environment"]}";

    [Fact]
    public async Task each_registry_now_and_as_of_shows_only_its_own_models_states()
    {
        await Given();

        var a = (await _a.Ok(_a.Get("/api/v1/registry"))).Body!;
        var b = (await _b.Ok(_b.Get("/api/v1/registry"))).Body!;

        var modelA = Assert.Single(a["items"]!.AsArray())!;
        var modelB = Assert.Single(b["items"]!.AsArray())!;
        Assert.Equal((await _a.Ok(_a.Get("/api/v1/models/churn"))).Body!["id"]!.GetValue<string>(), modelA["modelId"]!.GetValue<string>());
        Assert.Equal((await _b.Ok(_b.Get("/api/v1/models/churn"))).Body!["id"]!.GetValue<string>(), modelB["modelId"]!.GetValue<string>());
        Assert.NotEqual(modelA["modelId"]!.GetValue<string>(), modelB["modelId"]!.GetValue<string>());
        Assert.Equal("""{"None":[2,3],"Production":[1]}""", modelA["versionsByStage"]!.ToJsonString());
        Assert.Equal("""{"champion":1}""", modelA["aliases"]!.ToJsonString());
        Assert.Equal("""{"prod":1}""", modelA["deployments"]!.ToJsonString());
        Assert.Equal("""{"None":[1],"Staging":[2]}""", modelB["versionsByStage"]!.ToJsonString());
        Assert.Equal("""{"champion":2}""", modelB["aliases"]!.ToJsonString());
        Assert.Equal("{}", modelB["deployments"]!.ToJsonString());

        // As of each workspace's own "versions registered" sequence: its own versions, nothing held yet.
        var pastA = Assert.Single((await _a.Ok(_a.Get($"/api/v1/registry?atSequence={_aRegistered}"))).Body!["items"]!.AsArray())!;
        var pastB = Assert.Single((await _b.Ok(_b.Get($"/api/v1/registry?atSequence={_bRegistered}"))).Body!["items"]!.AsArray())!;
        Assert.Equal("""{"None":[1,2,3]}""", pastA["versionsByStage"]!.ToJsonString());
        Assert.Equal("""{"None":[1,2]}""", pastB["versionsByStage"]!.ToJsonString());
        Assert.Equal("{}", pastB["aliases"]!.ToJsonString());
    }

    [Fact]
    public async Task a_workspaces_sequence_counts_only_its_own_events()
    {
        await Given();
        var before = await Now(_b);

        for (var i = 0; i < 3; i++) await _a.Ok(_a.Post("/api/v1/models/churn/versions", Version()), 201);
        await Settled(WorkspaceId.Default);

        Assert.Equal(before, await Now(_b));
        Assert.Equal(before, await Last(TeamB));
        Assert.True(await Now(_a) > before, "default appended more events than team-b");
    }

    [Fact]
    public async Task each_registry_changes_list_only_its_own_changes()
    {
        await Given();

        var a = (await _a.Ok(_a.Get("/api/v1/registry/changes"))).Body!["items"]!.AsArray();
        var b = (await _b.Ok(_b.Get("/api/v1/registry/changes"))).Body!["items"]!.AsArray();

        Assert.Equal(["ModelVersionStageTransitioned:1", "ModelAliasAssigned:1", "ModelVersionDeployed:1"],
            a.Select(c => $"{c!["type"]}:{c["version"]}"));
        Assert.Equal(["ModelVersionStageTransitioned:2", "ModelAliasAssigned:2"], b.Select(c => $"{c!["type"]}:{c["version"]}"));
        Assert.All(b, c => Assert.Equal("churn", c!["model"]!.GetValue<string>()));
        Assert.All(b, c => Assert.Equal(b[0]!["modelId"]!.GetValue<string>(), c!["modelId"]!.GetValue<string>()));
        Assert.NotEqual(a[0]!["modelId"]!.GetValue<string>(), b[0]!["modelId"]!.GetValue<string>());
    }

    [Fact]
    public async Task each_rollback_plan_undoes_only_its_own_history()
    {
        await Given();

        var a = (await _a.Ok(_a.Post("/api/v1/models/churn/rollback", new { atSequence = _aRegistered, reason = "undo a", dryRun = true }))).Body!;
        var b = (await _b.Ok(_b.Post("/api/v1/models/churn/rollback", new { atSequence = _bRegistered, reason = "undo b", dryRun = true }))).Body!;
        var registry = (await _b.Ok(_b.Post("/api/v1/registry/rollback", new { atSequence = _bRegistered, reason = "undo b", dryRun = true }))).Body!;

        Assert.Equal(["stage:1:Production>None", "alias:champion:1>"], Plan(a["plan"]!));
        Assert.Equal(["stage:2:Staging>None", "alias:champion:2>"], Plan(b["plan"]!));
        var model = Assert.Single(registry["models"]!.AsArray())!;
        Assert.Equal(["stage:2:Staging>None", "alias:champion:2>"], Plan(model["plan"]!));
    }

    private static IEnumerable<string> Plan(JsonNode plan) => plan.AsArray().Select(c =>
        c!["kind"]!.GetValue<string>() == "stage"
            ? $"stage:{c["version"]}:{c["from"]}>{c["to"]}"
            : $"{c["kind"]}:{c["subject"]}:{c["from"]}>{c["to"]}");

    [Fact]
    public async Task snapshots_are_kept_per_workspace_and_a_past_model_is_folded_from_its_own()
    {
        await Given();

        // The test host snapshots every 3rd stream version: default's churn has 7 events (versions 3 and 6), team-b's 5 (3).
        var rows = await App.SqlList<string>(
            $"select tenant_id || ':' || version from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} order by tenant_id, version");
        Assert.Equal(["default:3", "default:6", "team-b:3"], rows);

        var pastA = (await _a.Ok(_a.Get($"/api/v1/models/churn?atSequence={_aRegistered}"))).Body!;
        var pastB = (await _b.Ok(_b.Get($"/api/v1/models/churn?atSequence={_bRegistered}"))).Body!;
        Assert.Equal(3, pastA["latestVersion"]!.GetValue<int>());
        Assert.Equal("fraud", pastA["tags"]!["team"]!.GetValue<string>());
        Assert.Equal(2, pastB["latestVersion"]!.GetValue<int>());
        Assert.Equal("growth", pastB["tags"]!["team"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_tag_filter_finds_only_the_workspaces_own_models()
    {
        await Given();

        Assert.Equal(["churn"], Names(await _a.Ok(_a.Get("/api/v1/models?tag=team:fraud"))));
        Assert.Empty(Names(await _a.Ok(_a.Get("/api/v1/models?tag=team:growth"))));
        Assert.Equal(["churn"], Names(await _b.Ok(_b.Get("/api/v1/models?tag=team:growth"))));
        Assert.Empty(Names(await _b.Ok(_b.Get("/api/v1/models?tag=team:fraud"))));
        var tags = await App.SqlList<string>(
            $"select tenant_id || ':' || tag_value from {RegistryStore.Schema}.{EventSourcedRegistry.Models.ModelTagIndex.Table} order by tenant_id");
        Assert.Equal(["default:fraud", "team-b:growth"], tags);
    }

    /// <summary>
    /// A rebuild is one workspace's: it compares and repairs that workspace's intervals, registry states and snapshots, and
    /// neither reports nor touches the other's rows, damaged or not.
    /// </summary>
    [Fact]
    public async Task a_rebuild_of_one_workspace_repairs_its_own_history_and_leaves_the_others_alone()
    {
        await Given();
        var goodB = (await _b.Ok(_b.Get("/api/v1/models/churn/deployments"))).Body!.ToJsonString();
        var goodRegistryB = (await _b.Ok(_b.Get($"/api/v1/registry?atSequence={_bRegistered}"))).Body!.ToJsonString();
        // The same damage in both: alias intervals gone, the newest registry state and every snapshot gone.
        foreach (var workspace in new[] { WorkspaceId.Default, TeamB })
        {
            await App.Sql($"delete from {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1 and kind = 'alias'", workspace.TenantId);
            await App.Sql($"delete from {RegistryStates.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1 and entered_seq = " +
                          $"(select max(entered_seq) from {RegistryStates.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1)", workspace.TenantId);
            await App.Sql($"delete from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1", workspace.TenantId);
        }
        var damagedA = await Rows(WorkspaceId.Default);

        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        var reports = await new EventSourcedRegistry.Rebuild.InlineViewRebuilder(App.Store, data, TeamB, AppFixture.SnapshotEvery)
            .RebuildAsync([EventSourcedRegistry.Rebuild.InlineViewRebuilder.Intervals, EventSourcedRegistry.Rebuild.InlineViewRebuilder.ModelViews],
                apply: true, progress: null, CancellationToken.None);

        var examples = string.Join("; ", reports.SelectMany(r => r.Examples));
        Assert.True(reports.All(r => r.Models == 1), examples);
        Assert.True(reports.Single(r => r.View == EventSourcedRegistry.Rebuild.InlineViewRebuilder.Intervals).Differences == 2, examples);
        Assert.Equal(goodB, (await _b.Ok(_b.Get("/api/v1/models/churn/deployments"))).Body!.ToJsonString());
        Assert.Equal(goodRegistryB, (await _b.Ok(_b.Get($"/api/v1/registry?atSequence={_bRegistered}"))).Body!.ToJsonString());
        Assert.Equal(["team-b:3"], await App.SqlList<string>(
            $"select tenant_id || ':' || version from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} order by tenant_id, version"));
        Assert.Equal(damagedA, await Rows(WorkspaceId.Default));
    }

    /// <summary>Every row the workspace holds in the three history tables, as text.</summary>
    private async Task<List<string>> Rows(WorkspaceId workspace) =>
        await App.SqlList<string>(
            $"select 'h:' || model_id || kind || subject || coalesce(version, 0) || entered_seq || coalesce(left_seq, 0) from {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1 " +
            $"union all select 's:' || model_id || entered_seq || state from {RegistryStates.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1 " +
            $"union all select 'm:' || model_id || version from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} where tenant_id = $1 order by 1",
            workspace.TenantId);

    private static IEnumerable<string> Names(RegistryCalls.Response response) =>
        response.Body!["items"]!.AsArray().Select(m => m!["name"]!.GetValue<string>());
}
