using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// The recorded deletion, through both doors: a tombstone that hides the model from every current read and frees its name,
/// while its events, and reads as of a point before the deletion, keep it. Refusals append nothing.
/// </summary>
public sealed class when_deleting_a_model(AppFixture app) : MlflowTest(app)
{
    private async Task<(string Ws, Credential Admin)> WorkspaceWithChurn()
    {
        var ws = await CreateWorkspace();
        var admin = Credential.Bearer(await KeyIn(ws, "admin"));
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "churn" }, admin)).Status);
        for (var v = 1; v <= 2; v++)
            Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = "churn", source = $"s3://bucket/churn/{v}" }, admin)).Status);
        return (ws, admin);
    }

    private Task<RegistryCalls.Response> Native(string ws, HttpMethod method, string path, Credential key, object? body = null) =>
        Send(method, $"/api/v1/workspaces/{ws}{path["/api/v1".Length..]}", body, key: key.Value);

    /// <summary>The workspace's newest event sequence.</summary>
    private async Task<long> LastSequence(string ws)
    {
        await using var session = Store.QuerySession(ws);
        return await session.Events.QueryAllRawEvents().MaxAsync(e => e.Sequence);
    }

    /// <summary>A read at a point, retried while the point is not settled yet (409/503 with Retry-After: the machine is shared).</summary>
    private async Task<RegistryCalls.Response> At(string ws, string path, long sequence, Credential key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var read = await Native(ws, HttpMethod.Get, $"{path}{(path.Contains('?') ? '&' : '?')}atSequence={sequence}", key);
            if (read.Status is not (409 or 503) || read.Header("Retry-After") is null || DateTime.UtcNow > deadline) return read;
            await Task.Delay(100);
        }
    }

    private async Task<Guid> IdOf(string ws, string name, Credential key)
    {
        var model = await Native(ws, HttpMethod.Get, $"/api/v1/models/{name}", key);
        Assert.True(model.Status == 200, $"{model.Status} {model.Body}");
        return model.Body!["id"]!.GetValue<Guid>();
    }

    [Fact]
    public async Task the_model_leaves_every_current_read_and_stays_in_its_history()
    {
        var (ws, admin) = await WorkspaceWithChurn();
        var oldId = await IdOf(ws, "churn", admin);
        var before = await LastSequence(ws);

        var deleted = await Native(ws, HttpMethod.Delete, "/api/v1/models/churn?reason=retired%20model", admin);
        Assert.True(deleted.Status == 204, $"{deleted.Status} {deleted.Body}");

        Assert.Equal(404, (await Native(ws, HttpMethod.Get, "/api/v1/models/churn", admin)).Status);
        Assert.Equal(404, (await Native(ws, HttpMethod.Get, "/api/v1/models/churn/versions/1", admin)).Status);
        Assert.Empty((await Native(ws, HttpMethod.Get, "/api/v1/models", admin)).Body!["items"]!.AsArray());
        Assert.Empty((await Native(ws, HttpMethod.Get, "/api/v1/registry", admin)).Body!["items"]!.AsArray());
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", ErrorCode(await Mlflow(ws, HttpMethod.Get, "registered-models/get", new { name = "churn" }, admin)));
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", ErrorCode(await Mlflow(ws, HttpMethod.Get, "model-versions/get", new { name = "churn", version = "1" }, admin)));
        // A command on the deleted model is one on a model that does not exist, and appends nothing.
        var events = await EventsIn(ws);
        Assert.Equal(404, (await Native(ws, HttpMethod.Post, "/api/v1/models/churn/archive", admin, new { })).Status);
        Assert.Equal(404, (await Native(ws, HttpMethod.Delete, "/api/v1/models/churn?reason=again", admin)).Status);
        Assert.Equal(events, await EventsIn(ws));

        // History: the tombstone is the stream's last event, with actor and reason; reads before it still show the model.
        await using (var session = Store.QuerySession(ws))
        {
            var stream = await session.Events.FetchStreamAsync(oldId);
            var tombstone = Assert.IsType<EventSourcedRegistry.Models.ModelDeleted>(stream[^1].Data);
            Assert.Equal(("churn", 2, "retired model"), (tombstone.Name, tombstone.LatestVersion, tombstone.Reason));
            Assert.False(string.IsNullOrEmpty(stream[^1].UserName));
        }
        var then = await At(ws, "/api/v1/models/churn", before, admin);
        Assert.True(then.Status == 200, $"{then.Status} {then.Body}");
        Assert.Equal(oldId, then.Body!["id"]!.GetValue<Guid>());
        Assert.Equal(200, (await At(ws, "/api/v1/models/churn/versions/2", before, admin)).Status);
        Assert.Equal(200, (await At(ws, "/api/v1/models/churn/deployments", before, admin)).Status);
        var registryThen = await At(ws, "/api/v1/registry", before, admin);
        Assert.Equal(["churn"], registryThen.Body!["items"]!.AsArray().Select(m => m!["model"]!.GetValue<string>()));
        var after = await LastSequence(ws);
        Assert.Equal(404, (await At(ws, "/api/v1/models/churn", after, admin)).Status);
        Assert.Empty((await At(ws, "/api/v1/registry", after, admin)).Body!["items"]!.AsArray());

        // The name is free: registering it again starts a new stream; the name as of before the deletion still names the old one.
        var again = await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "Churn" }, admin);
        Assert.True(again.Status == 200, $"{again.Status} {again.Body}");
        var newId = await IdOf(ws, "churn", admin);
        Assert.NotEqual(oldId, newId);
        Assert.Equal(oldId, (await At(ws, "/api/v1/models/churn", before, admin)).Body!["id"]!.GetValue<Guid>());
        Assert.Equal(newId, (await At(ws, "/api/v1/models/churn", await LastSequence(ws), admin)).Body!["id"]!.GetValue<Guid>());

        // The views rebuilt from the events equal the live ones: the deletion's removals and closed intervals included.
        await using var data = Npgsql.NpgsqlDataSource.Create(App.ConnectionString);
        var reports = await new EventSourcedRegistry.Rebuild.InlineViewRebuilder(Store, data, EventSourcedRegistry.Store.WorkspaceId.Parse(ws), AppFixture.SnapshotEvery)
            .RebuildAsync(EventSourcedRegistry.Rebuild.InlineViewRebuilder.InlineViews, apply: false, progress: null, CancellationToken.None);
        Assert.True(reports.All(r => r.Differences == 0), string.Join("; ", reports.Select(r => $"{r.View}: {string.Join(", ", r.Examples)}")));
    }

    [Fact]
    public async Task mlflow_deletes_a_version_then_the_model_and_concurrent_re_registrations_let_one_win()
    {
        var (ws, admin) = await WorkspaceWithChurn();
        Assert.Equal("{}", (await Mlflow(ws, HttpMethod.Delete, "model-versions/delete", new { name = "churn", version = "1" }, admin)).Body!.ToJsonString());
        var versions = await Mlflow(ws, HttpMethod.Get, "model-versions/search", new { filter = "name='churn'", max_results = "10000" }, admin);
        Assert.Equal(["2"], versions.Body!["model_versions"]!.AsArray().Select(v => v!["version"]!.GetValue<string>()));
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", ErrorCode(await Mlflow(ws, HttpMethod.Delete, "model-versions/delete", new { name = "churn", version = "1" }, admin)));
        // Numbers are never reused: the next version is 3.
        var third = await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = "churn", source = "s3://bucket/churn/3" }, admin);
        Assert.Equal("3", third.Body!["model_version"]!["version"]!.GetValue<string>());
        // As of now, a page of one version skips the deleted number and still says more follow.
        var page = await At(ws, "/api/v1/models/churn/versions?limit=1", await LastSequence(ws), admin);
        Assert.True(page.Status == 200, $"{page.Status} {page.Body}");
        Assert.Equal(2, page.Body!["items"]![0]!["version"]!.GetValue<int>());
        Assert.NotNull(page.Body!["nextCursor"]);

        Assert.Equal("{}", (await Mlflow(ws, HttpMethod.Delete, "registered-models/delete", new { name = "churn" }, admin)).Body!.ToJsonString());
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", ErrorCode(await Mlflow(ws, HttpMethod.Delete, "registered-models/delete", new { name = "churn" }, admin)));

        var racing = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "churn" }, admin)));
        Assert.Single(racing, r => r.Status == 200);
        Assert.All(racing.Where(r => r.Status != 200), r => Assert.True(r.Status == 400 && ErrorCode(r) == "RESOURCE_ALREADY_EXISTS", $"{r.Status} {r.Body}"));
        await using var session = Store.QuerySession(ws);
        Assert.Equal(2, await session.Events.QueryRawEventDataOnly<EventSourcedRegistry.Models.ModelRegistered>().CountAsync());
    }

    [Fact]
    public async Task a_deployed_or_protected_version_refuses_the_deletion_and_nothing_is_appended()
    {
        var (ws, admin) = await WorkspaceWithChurn();
        Assert.Equal(200, (await Native(ws, HttpMethod.Post, "/api/v1/models/churn/deployments", admin,
            new { version = 2, environment = "prod", action = "deployed" })).Status);
        var before = await EventsIn(ws);

        var native = await Native(ws, HttpMethod.Delete, "/api/v1/models/churn?reason=cleanup", admin);
        Assert.True(native.Status == 409, $"{native.Status} {native.Body}");
        Assert.Contains("deployed in prod", native.Body!["detail"]!.GetValue<string>());
        var mlflow = await Mlflow(ws, HttpMethod.Delete, "model-versions/delete", new { name = "churn", version = "2" }, admin);
        Assert.True(mlflow.Status == 409 && ErrorCode(mlflow) == "RESOURCE_CONFLICT", $"{mlflow.Status} {mlflow.Body}");
        Assert.Equal(before, await EventsIn(ws));
        Assert.Equal(200, (await Native(ws, HttpMethod.Get, "/api/v1/models/churn", admin)).Status);
    }

    [Fact]
    public async Task only_an_admin_deletes_and_a_caller_scoped_to_another_model_learns_nothing()
    {
        var (ws, admin) = await WorkspaceWithChurn();
        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name = "fraud" }, admin)).Status);
        var contributor = Credential.Bearer(await KeyIn(ws, "contributor"));
        var made = await Send(HttpMethod.Post, $"/api/v1/workspaces/{ws}/admin/keys",
            new { name = $"scoped-{Guid.NewGuid():N}", owner = $"scoped-{Guid.NewGuid():N}", grants = new[] { new { role = "contributor", model = "fraud" } } },
            key: admin.Value);
        var scoped = Credential.Bearer(made.Body!["key"]!.GetValue<string>());
        var before = await EventsIn(ws);

        Assert.Equal(403, (await Native(ws, HttpMethod.Delete, "/api/v1/models/churn?reason=x", contributor)).Status);
        Assert.Equal(403, (await Native(ws, HttpMethod.Delete, "/api/v1/models/churn/versions/1?reason=x", contributor)).Status);
        Assert.Equal("PERMISSION_DENIED", ErrorCode(await Mlflow(ws, HttpMethod.Delete, "registered-models/delete", new { name = "churn" }, contributor)));
        Assert.Equal("PERMISSION_DENIED", ErrorCode(await Mlflow(ws, HttpMethod.Delete, "model-versions/delete", new { name = "churn", version = "1" }, contributor)));

        // Scoped to fraud: churn answers word for word as a model that does not exist.
        var hidden = await Native(ws, HttpMethod.Delete, "/api/v1/models/churn?reason=x", scoped);
        var unknown = await Native(ws, HttpMethod.Delete, "/api/v1/models/no-such-model?reason=x", scoped);
        Assert.Equal(404, hidden.Status);
        Assert.Equal(Strip(unknown.Body).Replace("no-such-model", "churn"), Strip(hidden.Body));
        var mlflowHidden = await Mlflow(ws, HttpMethod.Delete, "registered-models/delete", new { name = "churn" }, scoped);
        var mlflowUnknown = await Mlflow(ws, HttpMethod.Delete, "registered-models/delete", new { name = "no-such-model" }, scoped);
        Assert.Equal(mlflowUnknown.Body!.ToJsonString().Replace("no-such-model", "churn"), mlflowHidden.Body!.ToJsonString());

        // Bad input from an admin: a 400 that names the field, never a fault.
        var noReason = await Native(ws, HttpMethod.Delete, "/api/v1/models/churn", admin);
        Assert.True(noReason.Status == 400 && noReason.Body!["errors"]?["reason"] is not null, $"{noReason.Status} {noReason.Body}");
        Assert.Equal(400, (await Native(ws, HttpMethod.Delete, $"/api/v1/models/churn?reason={new string('r', 5000)}", admin)).Status);
        Assert.Equal(400, (await Native(ws, HttpMethod.Delete, "/api/v1/models/churn/versions/1.5?reason=x", admin)).Status);
        foreach (var body in new[] { "{\"name\": \"churn\", \"version\": \"-1\"}", "{\"name\": [\"churn\"]}", "{\"version\": \"1\"}" })
        {
            var refused = await Mlflow(ws, HttpMethod.Delete, body.Contains("version") ? "model-versions/delete" : "registered-models/delete", null, admin, rawBody: body);
            Assert.True(refused.Status is 400 or 404 && ErrorCode(refused) is { Length: > 0 }, $"{body}: {refused.Status} {refused.Body}");
        }
        Assert.Equal(before, await EventsIn(ws));
    }

    private static string Strip(JsonNode? body)
    {
        var copy = body!.DeepClone().AsObject();
        copy.Remove("traceId");
        return copy.ToJsonString();
    }
}
