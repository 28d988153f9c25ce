using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Mlflow;

/// <summary>
/// MLflow's routes under the /api/v1 grants: no credential, a wrong credential, a role too small, a caller scoped to
/// another model or belonging to another workspace. Nothing is appended, and nothing leaks, not even a name: a hidden
/// model answers exactly as a model that does not exist, another workspace exactly as a route that does not exist.
/// </summary>
public sealed class when_calling_mlflow_without_the_right(AppFixture app) : MlflowTest(app)
{
    private async Task<(string Ws, string Admin)> WorkspaceWithChurnAndFraud()
    {
        var ws = await CreateWorkspace();
        var admin = Credential.Bearer(await KeyIn(ws, "admin"));
        foreach (var name in new[] { "churn", "fraud" })
        {
            Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/create", new { name }, admin)).Status);
            Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name, source = $"s3://bucket/{name}/1" }, admin)).Status);
        }
        return (ws, admin.Value);
    }

    private async Task<string> KeyFor(string ws, string role, string model)
    {
        var made = await Send(HttpMethod.Post, $"/api/v1/workspaces/{ws}/admin/keys",
            new { name = $"{role}-{Guid.NewGuid():N}", owner = $"{role}-{Guid.NewGuid():N}", grants = new[] { new { role, model } } }, workspaces: ws);
        Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        return made.Body!["key"]!.GetValue<string>();
    }

    [Fact]
    public async Task no_or_a_wrong_credential_is_unauthenticated_in_mlflow_words_and_changes_nothing()
    {
        var (ws, _) = await WorkspaceWithChurnAndFraud();
        var before = await EventsIn(ws);

        foreach (var credential in new Credential?[] { null, Credential.Bearer("esr_nosuchkey_secret"), Credential.Basic("me", "not-a-key"),
                     new Credential("Basic", "%%%not-base64"), Credential.Basic("only-a-user", "") })
        {
            var refused = await Mlflow(ws, HttpMethod.Post, "registered-models/set-tag", new { name = "churn", key = "k", value = "v" }, credential);
            Assert.True(refused.Status == 401, $"{credential}: {refused.Status} {refused.Body}");
            Assert.Equal("UNAUTHENTICATED", ErrorCode(refused));
        }
        Assert.Equal(before, await EventsIn(ws));
    }

    [Fact]
    public async Task a_reader_is_denied_writes_and_the_stream_is_unchanged()
    {
        var (ws, _) = await WorkspaceWithChurnAndFraud();
        var reader = Credential.Basic("whoever", await KeyIn(ws, "reader"));
        var before = await EventsIn(ws);

        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Get, "registered-models/get", new { name = "churn" }, reader)).Status);
        var writes = new (HttpMethod, string, object)[]
        {
            (HttpMethod.Post, "registered-models/create", new { name = "new-model" }),
            (HttpMethod.Post, "registered-models/set-tag", new { name = "churn", key = "k", value = "v" }),
            (HttpMethod.Post, "registered-models/rename", new { name = "churn", new_name = "churn-2" }),
            (HttpMethod.Post, "model-versions/create", new { name = "churn", source = "s3://bucket/churn/2" }),
            (HttpMethod.Post, "model-versions/transition-stage", new { name = "churn", version = "1", stage = "Staging", archive_existing_versions = false }),
            (HttpMethod.Delete, "registered-models/alias", new { name = "churn", alias = "champion" }),
        };
        foreach (var (method, endpoint, fields) in writes)
        {
            var refused = await Mlflow(ws, method, endpoint, fields, reader);
            Assert.True(refused.Status == 403 && ErrorCode(refused) == "PERMISSION_DENIED", $"{endpoint}: {refused.Status} {refused.Body}");
        }
        Assert.Equal(before, await EventsIn(ws));
    }

    [Fact]
    public async Task a_caller_scoped_to_another_model_learns_nothing_of_this_one()
    {
        var (ws, _) = await WorkspaceWithChurnAndFraud();
        var scoped = Credential.Bearer(await KeyFor(ws, "contributor", "fraud"));
        var before = await EventsIn(ws);

        Assert.Equal(200, (await Mlflow(ws, HttpMethod.Post, "registered-models/set-tag", new { name = "fraud", key = "k", value = "v" }, scoped)).Status);
        var calls = new (HttpMethod, string, object, object)[]
        {
            (HttpMethod.Get, "registered-models/get", new { name = "churn" }, new { name = "no-such-model" }),
            (HttpMethod.Get, "model-versions/get", new { name = "churn", version = "1" }, new { name = "no-such-model", version = "1" }),
            (HttpMethod.Get, "model-versions/get-download-uri", new { name = "churn", version = "1" }, new { name = "no-such-model", version = "1" }),
            (HttpMethod.Post, "registered-models/set-tag", new { name = "churn", key = "k", value = "v" }, new { name = "no-such-model", key = "k", value = "v" }),
            (HttpMethod.Post, "model-versions/create", new { name = "churn", source = "s3://x/1" }, new { name = "no-such-model", source = "s3://x/1" }),
            (HttpMethod.Patch, "model-versions/update", new { name = "churn", version = "1", description = "d" }, new { name = "no-such-model", version = "1", description = "d" }),
        };
        foreach (var (method, endpoint, hidden, unknown) in calls)
        {
            var asHidden = await Mlflow(ws, method, endpoint, hidden, scoped);
            var asUnknown = await Mlflow(ws, method, endpoint, unknown, scoped);
            Assert.True(asHidden.Status == 404 && ErrorCode(asHidden) == "RESOURCE_DOES_NOT_EXIST", $"{endpoint}: {asHidden.Status} {asHidden.Body}");
            // Word for word the answer of a model that does not exist, once its name is put in.
            Assert.Equal(asUnknown.Body!.ToJsonString().Replace("no-such-model", "churn"), asHidden.Body!.ToJsonString());
        }
        var search = await Mlflow(ws, HttpMethod.Get, "registered-models/search", new { filter = "tag.`mlflow.prompt.is_prompt` != 'true'", max_results = "100" }, scoped);
        Assert.Equal(["fraud"], search.Body!["registered_models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        var versions = await Mlflow(ws, HttpMethod.Get, "model-versions/search", new { filter = "name='churn'", max_results = "10000" }, scoped);
        Assert.Equal("{}", versions.Body!.ToJsonString());
        Assert.Equal(before + 1, await EventsIn(ws));
    }

    [Fact]
    public async Task a_caller_of_another_workspace_gets_the_answer_of_a_route_that_does_not_exist()
    {
        var (ws, _) = await WorkspaceWithChurnAndFraud();
        var other = await CreateWorkspace();
        var stranger = Credential.Bearer(await KeyIn(other, "admin"));
        var before = await EventsIn(ws);

        var refused = await Mlflow(ws, HttpMethod.Get, "registered-models/get", new { name = "churn" }, stranger);
        var noWorkspace = await Mlflow("no-such-workspace", HttpMethod.Get, "registered-models/get", new { name = "churn" }, stranger);
        var noRoute = await Mlflow(other, HttpMethod.Get, "registered-models/no-such-endpoint", new { name = "churn" }, stranger);
        var write = await Mlflow(ws, HttpMethod.Post, "registered-models/set-tag", new { name = "churn", key = "k", value = "v" }, stranger);

        foreach (var answer in new[] { refused, noWorkspace, write })
        {
            Assert.Equal(404, answer.Status);
            Assert.Equal(noRoute.Raw.Content.Headers.ContentType?.ToString(), answer.Raw.Content.Headers.ContentType?.ToString());
            Assert.Equal(noRoute.Body?.ToJsonString(), answer.Body?.ToJsonString());
        }
        Assert.Equal("text/html", noRoute.Raw.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await EventsIn(ws));
    }

    [Fact]
    public async Task hostile_input_is_refused_in_mlflow_words_never_a_fault_and_appends_nothing()
    {
        var (ws, admin) = await WorkspaceWithChurnAndFraud();
        var key = Credential.Bearer(admin);
        var before = await EventsIn(ws);

        var raw = new (HttpMethod, string, string)[]
        {
            (HttpMethod.Post, "registered-models/set-tag", "[1,2,3]"),
            (HttpMethod.Post, "registered-models/set-tag", "{\"name\": \"churn\", \"key\": "),
            (HttpMethod.Post, "registered-models/create", "{\"name\": {\"nested\": true}}"),
            (HttpMethod.Post, "registered-models/create", "{\"name\": \"x\", \"tags\": \"not-a-list\"}"),
            (HttpMethod.Post, "registered-models/create", "{\"name\": \"x\", \"tags\": [{\"value\": \"no key\"}]}"),
            (HttpMethod.Post, "registered-models/create", "{\"name\": \"" + new string('a', 5000) + "\"}"),
            (HttpMethod.Post, "registered-models/create", "{\"name\": \"../../etc\"}"),
            (HttpMethod.Post, "model-versions/create", "{\"name\": \"churn\", \"source\": \"s3://bucket/a/%2e%2e/%2E%2E/etc\"}"),
            (HttpMethod.Post, "model-versions/create", "{\"name\": \"churn\", \"source\": \"file:///etc/passwd\"}"),
            (HttpMethod.Post, "model-versions/create", "{\"name\": \"churn\", \"source\": \"s3://b/" + new string('x', 3000) + "\"}"),
            (HttpMethod.Post, "model-versions/transition-stage", "{\"name\": \"churn\", \"version\": \"99999999999\", \"stage\": \"Staging\"}"),
            (HttpMethod.Post, "model-versions/transition-stage", "{\"name\": \"churn\", \"version\": \"-1\", \"stage\": \"Staging\"}"),
            (HttpMethod.Post, "model-versions/transition-stage", "{\"name\": \"churn\", \"version\": \"1\", \"stage\": \"\"}"),
            (HttpMethod.Post, "registered-models/alias", "{\"name\": \"churn\", \"alias\": \"has space\", \"version\": \"1\"}"),
            (HttpMethod.Post, "registered-models/alias", "{\"name\": \"churn\", \"alias\": \"V1\", \"version\": \"1\"}"),
            (HttpMethod.Patch, "registered-models/update", "{\"name\": \"churn\", \"description\": \"" + new string('d', 6000) + "\"}"),
            (HttpMethod.Post, "registered-models/rename", "{\"name\": \"churn\", \"new_name\": \"FRAUD\"}"),
            (HttpMethod.Delete, "registered-models/delete", "{\"name\": {\"nested\": true}}"),
            (HttpMethod.Delete, "model-versions/delete", "{\"name\": \"churn\", \"version\": \"1.5\"}"),
        };
        foreach (var (method, endpoint, body) in raw)
        {
            var refused = await Mlflow(ws, method, endpoint, null, key, rawBody: body);
            Assert.True(refused.Status is >= 400 and < 500, $"{endpoint} {body[..Math.Min(body.Length, 80)]}: {refused.Status} {refused.Body}");
            Assert.True(ErrorCode(refused) is { Length: > 0 }, $"{endpoint}: no error_code in {refused.Body}");
        }
        // A method the path does not take: the reference server's 405 page, not a fault (it was a 500 INTERNAL_ERROR).
        foreach (var (method, endpoint) in new[] { (HttpMethod.Post, "model-versions/update"), (HttpMethod.Put, "registered-models/create"),
                     (HttpMethod.Delete, "registered-models/get") })
        {
            var refused = await Mlflow(ws, method, endpoint, null, key, rawBody: "{\"name\": \"churn\", \"version\": \"1\"}");
            Assert.True(refused.Status == 405, $"{method} {endpoint}: {refused.Status} {refused.Body}");
            Assert.Equal("text/html", refused.Raw.Content.Headers.ContentType?.MediaType);
        }
        var queries = new[]
        {
            "model-versions/get?name=churn&version=1.5", "model-versions/get?name=churn", "registered-models/get",
            "registered-models/search?max_results=0", "registered-models/search?max_results=-5", "registered-models/search?page_token=eyJvZmZzZXQiOiAtMX0=",
            "registered-models/search?filter=name%20%3D%20%27a%27%20OR%201%3D1", "model-versions/search?filter=name%3D%27churn%27%3B%20drop%20table%20x",
        };
        using var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
        foreach (var query in queries)
        {
            var refused = await RegistryCalls.Read(await client.GetAsync($"/api/v1/workspaces/{ws}/api/2.0/mlflow/{query}"));
            Assert.True(refused.Status == 400 && ErrorCode(refused) == "INVALID_PARAMETER_VALUE", $"{query}: {refused.Status} {refused.Body}");
        }
        Assert.Equal(before, await EventsIn(ws));
    }
}
