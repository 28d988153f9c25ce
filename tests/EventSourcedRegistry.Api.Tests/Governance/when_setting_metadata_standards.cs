using EventSourcedRegistry.Store;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Settings;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Governance;

public sealed class when_setting_metadata_standards(AppFixture app) : ApiTest(app)
{
    private const string ModelSchemaRoute = "/api/v1/models/churn/metadata-schema";
    private const string RegistrySchemaRoute = "/api/v1/registry/metadata-schema";

    private static readonly JsonObject ModelCard = JsonNode.Parse("""
        {"title":"Model card","type":"object","required":["owner","intendedUse"],
         "properties":{"owner":{"type":"string","minLength":1},"intendedUse":{"type":"string"},"rows":{"type":"integer","minimum":1}}}
        """)!.AsObject();

    private static readonly JsonObject NeedsDataset = JsonNode.Parse("""{"type":"object","required":["dataset"]}""")!.AsObject();

    private Task<RegistryCalls.Response> Put(string route, JsonNode? schema, string? reason = null, IDictionary<string, string>? headers = null) =>
        Host.Send(HttpMethod.Put, route, new JsonObject { ["schema"] = schema?.DeepClone(), ["reason"] = reason }, headers);

    private Task<RegistryCalls.Response> Register(string model, object? metadata) =>
        Host.Post($"/api/v1/models/{model}/versions", new
        {
            artifact = new { uri = "s3://models/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1234 },
            metadata,
        });

    [Fact]
    public async Task a_model_schema_is_set_read_back_and_recorded_in_the_history_with_its_reason()
    {
        await Host.RegisterModel("churn");

        var set = await Put(ModelSchemaRoute, ModelCard, "every version needs a model card").Ok();

        Assert.Equal("\"2\"", set.ETag);
        Assert.True(JsonNode.DeepEquals(ModelCard, set.Body!["schema"]));
        var read = await Host.Get(ModelSchemaRoute).Ok();
        Assert.True(JsonNode.DeepEquals(ModelCard, read.Body!["schema"]));
        Assert.Equal("churn", read.Body["model"]!.GetValue<string>());
        var history = (await Host.Get("/api/v1/models/churn/history").Ok()).Body!["items"]!.AsArray();
        var entry = history.Last()!;
        Assert.Equal(nameof(ModelMetadataSchemaSet), entry["type"]!.GetValue<string>());
        Assert.Equal("every version needs a model card", entry["reason"]!.GetValue<string>());
        Assert.Equal(AppFixture.AdminActor, entry["actor"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(ModelCard, entry["data"]!["schema"]));
    }

    [Fact]
    public async Task setting_the_same_schema_again_appends_nothing()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();

        var again = await Put(ModelSchemaRoute, ModelCard).Ok();

        Assert.Equal("\"2\"", again.ETag);
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Theory]
    [InlineData("""{"type":"strin"}""")]
    [InlineData("""{"required":"owner"}""")]
    [InlineData("""{"properties":{"owner":{"$ref":"https://example.com/owner.json"}}}""")]
    [InlineData("\"object\"")]
    [InlineData("null")]
    public async Task an_invalid_schema_document_is_a_400_and_appends_nothing(string schema)
    {
        await Host.RegisterModel("churn");
        var before = await RegistrySnapshot.Take(Host, Store);

        (await Put(ModelSchemaRoute, JsonNode.Parse(schema))).AssertProblem(400, "schema");
        (await Put(RegistrySchemaRoute, JsonNode.Parse(schema))).AssertProblem(400, "schema");

        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task metadata_that_breaks_the_model_schema_is_a_400_with_the_schema_errors_and_appends_nothing()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();
        var before = await RegistrySnapshot.Take(Host, Store);

        var problem = (await Register("churn", new { owner = "", rows = 0 })).AssertProblem(400, "metadata");

        var errors = problem["errors"]!.AsObject();
        Assert.Contains(errors["metadata"]!.AsArray(), m => m!.GetValue<string>().Contains("intendedUse"));
        Assert.NotNull(errors["metadata/owner"]);
        Assert.NotNull(errors["metadata/rows"]);
        Assert.Contains("model's metadata schema", problem["detail"]!.GetValue<string>());
        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task a_version_without_metadata_is_refused_when_the_schema_requires_keys()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();

        (await Register("churn", null)).AssertProblem(400, "metadata");
    }

    [Fact]
    public async Task metadata_that_meets_the_schema_registers_the_version()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();

        await Register("churn", new { owner = "fraud-team", intendedUse = "scoring", rows = 10 }).Ok(201);
    }

    [Fact]
    public async Task replacing_a_versions_metadata_must_meet_the_schema_too()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();
        await Register("churn", new { owner = "fraud-team", intendedUse = "scoring" }).Ok(201);
        var before = await RegistrySnapshot.Take(Host, Store);

        (await Host.Send(HttpMethod.Patch, "/api/v1/models/churn/versions/1", new { metadata = new { owner = "x" } }))
            .AssertProblem(400, "metadata");
        await before.AssertUnchanged(Host, Store);

        await Host.Send(HttpMethod.Patch, "/api/v1/models/churn/versions/1", new { description = "tags and text are not metadata" }).Ok();
    }

    [Fact]
    public async Task removing_the_model_schema_lifts_it_and_removing_it_twice_is_a_404()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();

        await Host.Send(HttpMethod.Delete, ModelSchemaRoute + "?reason=too%20strict").Ok(204);

        (await Host.Get(ModelSchemaRoute)).AssertProblem(404);
        (await Host.Send(HttpMethod.Delete, ModelSchemaRoute)).AssertProblem(404);
        await Register("churn", null).Ok(201);
        var events = await Store.EventsOf("churn");
        Assert.IsType<ModelMetadataSchemaRemoved>(events[2].Data);
    }

    [Fact]
    public async Task only_an_admin_sets_or_removes_a_standard_and_a_reader_may_read_it()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard).Ok();
        await Put(RegistrySchemaRoute, ModelCard).Ok();
        var contributor = await Host.ClientWithRoles("contributor");
        var reader = await Host.ClientWithRoles("reader");
        var before = await RegistrySnapshot.Take(Host, Store);

        (await contributor.Send(HttpMethod.Put, ModelSchemaRoute, new { schema = new { type = "object" } })).AssertProblem(403);
        (await contributor.Send(HttpMethod.Delete, ModelSchemaRoute)).AssertProblem(403);
        (await contributor.Send(HttpMethod.Put, RegistrySchemaRoute, new { schema = new { type = "object" } })).AssertProblem(403);
        (await contributor.Send(HttpMethod.Delete, RegistrySchemaRoute)).AssertProblem(403);
        (await Host.AnonymousClient().Send(HttpMethod.Get, RegistrySchemaRoute)).AssertProblem(401);

        await before.AssertUnchanged(Host, Store);
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, ModelSchemaRoute)).Status);
        Assert.Equal(200, (await reader.Send(HttpMethod.Get, RegistrySchemaRoute)).Status);
    }

    [Fact]
    public async Task an_unknown_model_has_no_schema_to_set()
    {
        var before = await RegistrySnapshot.Take(Host, Store);

        (await Put("/api/v1/models/nope/metadata-schema", ModelCard)).AssertProblem(404);
        (await Host.Get("/api/v1/models/nope/metadata-schema")).AssertProblem(404);

        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task the_registry_schema_applies_to_every_model_beside_each_models_own()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        await Put(RegistrySchemaRoute, ModelCard, "registry-wide model cards").Ok();
        await Put("/api/v1/models/fraud/metadata-schema", NeedsDataset).Ok();
        var before = await RegistrySnapshot.Take(Host, Store);

        (await Register("churn", new { owner = "a" })).AssertProblem(400, "metadata");
        var both = (await Register("fraud", new { owner = "a" })).AssertProblem(400, "metadata");
        await before.AssertUnchanged(Host, Store);

        var messages = both["errors"]!["metadata"]!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        Assert.Contains(messages, m => m.StartsWith("registry metadata schema:") && m.Contains("intendedUse"));
        Assert.Contains(messages, m => m.StartsWith("model metadata schema:") && m.Contains("dataset"));
        await Register("churn", new { owner = "a", intendedUse = "b" }).Ok(201);
        await Register("fraud", new { owner = "a", intendedUse = "b", dataset = "s3://d" }).Ok(201);
    }

    [Fact]
    public async Task the_registry_schema_is_read_back_with_its_revision_and_honours_if_match()
    {
        (await Host.Get(RegistrySchemaRoute)).AssertProblem(404);

        var set = await Put(RegistrySchemaRoute, ModelCard).Ok();
        Assert.Equal("\"1\"", set.ETag);
        Assert.True(JsonNode.DeepEquals(ModelCard, (await Host.Get(RegistrySchemaRoute).Ok()).Body!["schema"]));

        var before = await RegistrySnapshot.Take(Host, Store);
        (await Put(RegistrySchemaRoute, NeedsDataset, headers: new Dictionary<string, string> { ["If-Match"] = "\"0\"" })).AssertProblem(412);
        await before.AssertUnchanged(Host, Store);

        var replaced = await Put(RegistrySchemaRoute, NeedsDataset, headers: new Dictionary<string, string> { ["If-Match"] = "\"1\"" }).Ok();
        Assert.Equal(2, replaced.Body!["revision"]!.GetValue<long>());

        await Host.Send(HttpMethod.Delete, RegistrySchemaRoute).Ok(204);
        (await Host.Get(RegistrySchemaRoute)).AssertProblem(404);
        (await Host.Send(HttpMethod.Delete, RegistrySchemaRoute)).AssertProblem(404);
    }

    [Fact]
    public async Task the_registry_settings_stream_is_no_model_in_lists_reads_or_rebuilds()
    {
        await Host.RegisterModel("churn");
        await Put(RegistrySchemaRoute, ModelCard).Ok();

        var models = (await Host.Get("/api/v1/models").Ok()).Body!["items"]!.AsArray();
        Assert.Equal(["churn"], models.Select(m => m!["name"]!.GetValue<string>()));
        await using (var session = Store.QuerySession(WorkspaceId.Default.TenantId))
        {
            Assert.Null(await session.LoadAsync<ModelView>(RegistrySettings.StreamId));
            Assert.Equal(1, (await session.LoadAsync<RegistrySettings>(RegistrySettings.StreamId))!.Revision);
        }
        await Host.Get("/api/v1/registry").Ok();

        var started = await Host.Post("/api/v1/admin/projections/rebuild", new { });
        Assert.True(started.Status == 202, $"{started.Status} {started.Body}");
        JsonNode status;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        do
        {
            await Task.Delay(100);
            status = (await Host.Get("/api/v1/admin/projections")).Body!["rebuild"]!;
        } while (status["state"]!.GetValue<string>() == "running" && DateTime.UtcNow < deadline);
        Assert.Equal("succeeded", status["state"]!.GetValue<string>());
        Assert.All(status["reports"]!.AsArray(), r => Assert.Equal(0, r!["differences"]!.GetValue<long>()));
    }

    [Fact]
    public async Task schema_changes_show_in_the_audit_log_with_who_and_why_and_the_chain_verifies()
    {
        await Host.RegisterModel("churn");
        await Put(ModelSchemaRoute, ModelCard, "model cards for churn").Ok();
        await Put(RegistrySchemaRoute, NeedsDataset, "datasets everywhere").Ok();
        await Host.Send(HttpMethod.Delete, RegistrySchemaRoute + "?reason=too%20strict").Ok(204);
        await Store.WaitForAuditTrail();

        var items = (await Host.Audit()).Items();

        var modelSet = items.Single(i => i["eventType"]!.GetValue<string>() == nameof(ModelMetadataSchemaSet));
        Assert.Equal("churn", modelSet["modelName"]!.GetValue<string>());
        Assert.Equal("model cards for churn", modelSet["reason"]!.GetValue<string>());
        Assert.Equal("metadata schema set (\"Model card\"; requires owner, intendedUse)", modelSet["summary"]!.GetValue<string>());
        var registrySet = items.Single(i => i["eventType"]!.GetValue<string>() == nameof(RegistryMetadataSchemaSet));
        Assert.Equal("datasets everywhere", registrySet["reason"]!.GetValue<string>());
        Assert.Equal("registry metadata schema set (requires dataset)", registrySet["summary"]!.GetValue<string>());
        Assert.Equal(AppFixture.AdminActor, registrySet["actor"]!.GetValue<string>());
        var removed = items.Single(i => i["eventType"]!.GetValue<string>() == nameof(RegistryMetadataSchemaRemoved));
        Assert.Equal("too strict", removed["reason"]!.GetValue<string>());
        Assert.True((await Host.Verify())["verified"]!.GetValue<bool>());
    }
}
