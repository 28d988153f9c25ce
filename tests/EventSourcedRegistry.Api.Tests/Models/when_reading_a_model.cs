using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Models.Reading;
using EventSourcedRegistry.Api.Tests.Workspaces;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Models;

/// <summary>
/// <c>GET /models/{name}</c> answers the stored view's JSON without building a <see cref="ModelView"/>
/// (<see cref="StoredModelView"/>): parsed, the answer must be what serializing the view with the wire's options gives,
/// member for member, whatever the view holds and however old the stored document is.
/// </summary>
public sealed class when_reading_a_model(AppFixture app) : ApiTest(app)
{
    private const string Name = "fraud-scorer";

    private static async Task<JsonNode> Serialized(IDocumentStore store, string name)
    {
        await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
        var view = await session.Query<ModelView>().SingleAsync(x => x.NormalizedName == name);
        return JsonSerializer.SerializeToNode(view, EventSourcedRegistry.Api.Infrastructure.Json.Options)!;
    }

    private static void AssertSameJson(JsonNode expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected.ToJsonString()}\nanswered {actual?.ToJsonString()}");

    [Fact]
    public async Task the_answer_means_what_the_serialized_view_means_with_every_part_of_a_view_filled()
    {
        var host = await App.GovernedHost();
        var store = host.Services.GetRequiredService<IDocumentStore>();
        await host.RegisterModel(Name, new Dictionary<string, string> { ["team"] = "risk", ["Cost-Center"] = "4711" });
        for (var i = 0; i < 3; i++) await host.RegisterVersion(Name);
        await host.Promote(Name, 1, "Staging").Ok();
        await host.Promote(Name, 2, "Staging").Ok();
        await host.Put($"/api/v1/models/{Name}/aliases/challenger", new { version = 2 }).Ok();
        await host.Post($"/api/v1/models/{Name}/deployments", new { version = 2, environment = "staging", target = "eu-1", action = "deployed" }).Ok();
        await host.Delete($"/api/v1/models/{Name}/versions/3?reason=registered+by+mistake").Ok(204);
        // Client JSON: its own null is content and must stay, where the view's null members are left out.
        var schema = JsonNode.Parse("""{"type":"object","properties":{"owner":{"type":["string","null"],"default":null,"description":"<team> & \"desk\" — für alle"}}}""");
        await host.Put($"/api/v1/models/{Name}/metadata-schema", new { schema, reason = "a standard" }).Ok();
        await host.Patch($"/api/v1/models/{Name}", new { description = "Scores <fraud> & churn — für Kunden\n\"quoted\"" }).Ok();
        await host.Promote(Name, 1, "Production", reason: "AUC 0.93 on holdout.").Ok(202);

        var answer = await host.Get($"/api/v1/models/{Name}");

        Assert.Equal(200, answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.Raw.Content.Headers.ContentType?.ToString());
        var expected = await Serialized(store, Name);
        AssertSameJson(expected, answer.Body);
        Assert.Equal(Revisions.ETagOf(expected["revision"]!.GetValue<long>()), answer.Raw.Headers.ETag?.ToString());
        // The parts this test is about are there, so the comparison above compared them.
        var model = answer.Body!;
        Assert.Equal([1, 2], model["versionsByStage"]!["Staging"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal([3], model["deletedVersions"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal(2, model["aliases"]!["challenger"]!.GetValue<int>());
        Assert.Equal(2, model["deployments"]!["staging/eu-1"]!.GetValue<int>());
        Assert.Equal("4711", model["tags"]!["Cost-Center"]!.GetValue<string>());
        Assert.True(model["metadataSchema"]!["properties"]!["owner"]!.AsObject().TryGetPropertyValue("default", out var kept) && kept is null);
        var pending = Assert.Single(model["pendingRequests"]!.AsArray())!.AsObject();
        Assert.Equal("AUC 0.93 on holdout.", pending["reason"]!.GetValue<string>());
        Assert.False(pending.ContainsKey("closedAt"));
        Assert.False(pending.ContainsKey("supersededBy"));
        Assert.False(model.AsObject().ContainsKey("deleted"));
    }

    [Fact]
    public async Task a_view_without_a_description_schema_or_requests_leaves_them_as_the_serializer_does()
    {
        await Host.RegisterModel(Name);

        var answer = await Host.Get($"/api/v1/models/{Name}");

        Assert.Equal(200, answer.Status);
        AssertSameJson(await Serialized(Store, Name), answer.Body);
        Assert.False(answer.Body!.AsObject().ContainsKey("description"));
        Assert.False(answer.Body!.AsObject().ContainsKey("metadataSchema"));
        Assert.Empty(answer.Body!["pendingRequests"]!.AsArray());
    }

    [Fact]
    public async Task a_view_stored_by_an_older_build_is_answered_as_its_deserialization_would_be()
    {
        await Host.RegisterModel(Name);
        await Host.RegisterVersion(Name);
        // As an older build wrote it: members since added are missing, one since removed is there, nulls are written.
        await using (var session = Store.LightweightSession(WorkspaceId.Default.TenantId))
        {
            session.QueueSqlCommand(
                $"update {RegistryTables.ModelView} set data = (data - 'pendingRequests' - 'deployments' - 'aliases') || " +
                "'{\"creationTimestamp\": 1700000000, \"description\": null, \"metadataSchema\": null, \"deletedVersions\": null}'::jsonb " +
                "where tenant_id = ? and normalized_name = ?", WorkspaceId.Default.TenantId, Name);
            await session.SaveChangesAsync();
        }

        var answer = await Host.Get($"/api/v1/models/{Name}");

        Assert.Equal(200, answer.Status);
        AssertSameJson(await Serialized(Store, Name), answer.Body);
        Assert.False(answer.Body!.AsObject().ContainsKey("creationTimestamp"));
        Assert.Empty(answer.Body!["pendingRequests"]!.AsArray());
    }

    private Task<List<string>> StoredStages(string name) => App.SqlList<string>(
        $"select (data -> 'versionsByStage')::text from {RegistryTables.ModelView} where tenant_id = $1 and normalized_name = $2",
        WorkspaceId.Default.TenantId, name);

    private static int[] Versions(JsonNode model, string stage) => [.. model["versionsByStage"]![stage]!.AsArray().Select(v => v!.GetValue<int>())];

    [Fact]
    public async Task versions_are_stored_as_runs_and_answered_one_by_one()
    {
        await Host.RegisterModel(Name);
        for (var i = 0; i < 5; i++) await Host.RegisterVersion(Name);
        await Host.Promote(Name, 3, "Staging").Ok();

        var answer = await Host.Get($"/api/v1/models/{Name}");
        var again = await Host.Get($"/api/v1/models/{Name}"); // from this node's copy

        Assert.Equal("""{"None": [[1, 2], [4, 5]], "Staging": [3]}""", Assert.Single(await StoredStages(Name)));
        foreach (var read in new[] { answer, again })
        {
            Assert.Equal(200, read.Status);
            Assert.Equal([1, 2, 4, 5], Versions(read.Body!, "None"));
            Assert.Equal([3], Versions(read.Body!, "Staging"));
            AssertSameJson(await Serialized(Store, Name), read.Body);
        }
    }

    [Fact]
    public async Task a_view_stored_before_runs_is_answered_and_decided_against_and_the_next_command_stores_runs()
    {
        await Host.RegisterModel(Name);
        for (var i = 0; i < 5; i++) await Host.RegisterVersion(Name);
        await Host.Promote(Name, 3, "Staging").Ok();
        // As a build before runs wrote it: every version listed.
        Assert.Equal(1, await App.Sql($"update {RegistryTables.ModelView} set data = jsonb_set(data, '{{versionsByStage}}', " +
                                      "'{\"None\": [1, 2, 4, 5], \"Staging\": [3]}') where tenant_id = $1 and normalized_name = $2",
            WorkspaceId.Default.TenantId, Name));

        var answer = await Host.Get($"/api/v1/models/{Name}");
        Assert.Equal([1, 2, 4, 5], Versions(answer.Body!, "None"));
        Assert.Equal([3], Versions(answer.Body!, "Staging"));
        AssertSameJson(await Serialized(Store, Name), answer.Body);

        // A command reads it as the state it decides against: version 3 is in Staging, so it is promoted from there.
        Assert.Equal(6, await Host.RegisterVersion(Name));
        await Host.Promote(Name, 3, "Production").Ok();

        Assert.Equal("""{"None": [[1, 2], [4, 6]], "Production": [3]}""", Assert.Single(await StoredStages(Name)));
        var after = await Host.Get($"/api/v1/models/{Name}");
        Assert.Equal([1, 2, 4, 5, 6], Versions(after.Body!, "None"));
        Assert.Equal([3], Versions(after.Body!, "Production"));
    }

    [Fact]
    public void approvals_and_requests_lose_their_null_members_at_every_depth_and_client_json_keeps_its_own()
    {
        var at = new DateTimeOffset(2026, 12, 6, 17, 0, 0, TimeSpan.Zero);
        var view = new ModelView
        {
            Id = Guid.NewGuid(), Name = "Fraud-Scorer", NormalizedName = Name, Description = null, LatestVersion = 4, Revision = 12,
            Tags = new() { ["team"] = "risk" },
            VersionsByStage = new() { ["Staging"] = [1, 2], ["Archived"] = [4] },
            DeletedVersions = [3],
            Aliases = new() { ["challenger"] = 2 },
            MetadataSchema = JsonDocument.Parse("""{"default":null,"enum":[null,"a"]}""").RootElement,
            PendingRequests =
            [
                new EventSourcedRegistry.Approvals.TransitionRequest
                {
                    Id = Guid.NewGuid(), Kind = "stage", VersionNumber = 1, Target = "Production", Sha256 = RegistryCalls.Sha256A,
                    RequestedBy = "alice", RequesterKeyIssuers = ["root", "team"], RequestedAt = at,
                    Approvals = [new EventSourcedRegistry.Approvals.Approval("bob", RegistryCalls.Sha256A, at, null, "bob", null, ["root"])],
                },
            ],
        };
        // The store's spelling of the view: nulls written, as Marten's serializer writes them.
        var stored = Store.Options.Serializer().ToJson(view);
        Assert.Contains("\"closedAt\":null", stored.Replace(" ", ""));
        var answer = new System.Buffers.ArrayBufferWriter<byte>();

        var revision = EventSourcedRegistry.Api.Models.Reading.StoredModelView.Reshape(System.Text.Encoding.UTF8.GetBytes(stored), answer);

        Assert.Equal(12, revision);
        AssertSameJson(JsonSerializer.SerializeToNode(view, EventSourcedRegistry.Api.Infrastructure.Json.Options)!, JsonNode.Parse(answer.WrittenSpan));
    }

    [Fact]
    public void a_stored_lone_version_is_copied_as_it_is_and_a_damaged_run_is_refused_not_counted_out()
    {
        static string Reshaped(string versions)
        {
            var answer = new System.Buffers.ArrayBufferWriter<byte>();
            EventSourcedRegistry.Api.Models.Reading.StoredModelView.Reshape(
                System.Text.Encoding.UTF8.GetBytes("{\"name\":\"churn\",\"versionsByStage\":{\"None\":" + versions + "},\"revision\":3}"), answer);
            return JsonNode.Parse(answer.WrittenSpan)!["versionsByStage"]!.ToJsonString();
        }

        // A counting loop from a lone int.MaxValue to itself would wrap around and never end.
        Assert.Equal("""{"None":[1,2,3,2147483647]}""", Reshaped("[[1,3],2147483647]"));
        Assert.ThrowsAny<JsonException>(() => Reshaped("[[1,2147483647]]"));
        Assert.ThrowsAny<JsonException>(() => Reshaped("[[4,2]]"));
    }

    [Fact]
    public async Task an_unchanged_row_is_answered_from_the_nodes_copy_and_a_row_changed_by_any_writer_never_is()
    {
        var tenant = WorkspaceId.Default.TenantId;
        var answers = Host.Services.GetRequiredService<ModelViewAnswers>();
        await Host.RegisterModel(Name);
        await Host.RegisterVersion(Name);
        var first = await Host.Get($"/api/v1/models/{Name}");
        Assert.Equal(200, first.Status);
        var copy = answers.Find(tenant, Name);
        Assert.NotNull(copy);

        // While the row is the one the copy was made from, the copy is what is answered: one planted with the row's version
        // and other JSON is answered as it is.
        answers.Keep(tenant, Name, copy with { Json = """{"planted":true}"""u8.ToArray(), Revision = 99 });
        var planted = await Host.Get($"/api/v1/models/{Name}");
        Assert.True(planted.Body!["planted"]!.GetValue<bool>(), planted.Body.ToJsonString());
        Assert.Equal(Revisions.ETagOf(99), planted.Raw.Headers.ETag?.ToString());

        // Changed by hand (no command, no Marten, Marten's last-modified time untouched): the next read sees it.
        Assert.Equal(1, await App.Sql($"update {RegistryTables.ModelView} set data = jsonb_set(data, '{{description}}', '\"changed by hand\"') " +
                                      "where tenant_id = $1 and normalized_name = $2", tenant, Name));
        var byHand = await Host.Get($"/api/v1/models/{Name}");
        Assert.Equal("changed by hand", byHand.Body!["description"]!.GetValue<string>());
        AssertSameJson(await Serialized(Store, Name), byHand.Body);
        Assert.Equal("changed by hand", (await Host.Get($"/api/v1/models/{Name}")).Body!["description"]!.GetValue<string>());

        // Changed by a command: the new revision and its ETag.
        await Host.Patch($"/api/v1/models/{Name}", new { description = "changed by a command" }).Ok();
        var byCommand = await Host.Get($"/api/v1/models/{Name}");
        AssertSameJson(await Serialized(Store, Name), byCommand.Body);
        Assert.Equal("changed by a command", byCommand.Body!["description"]!.GetValue<string>());
        Assert.Equal(Revisions.ETagOf(byCommand.Body["revision"]!.GetValue<long>()), byCommand.Raw.Headers.ETag?.ToString());
        Assert.NotEqual(first.Body!["revision"]!.GetValue<long>(), byCommand.Body["revision"]!.GetValue<long>());

        // Deleted: a 404, though a copy of the model is kept.
        await Host.Delete($"/api/v1/models/{Name}?reason=retired").Ok(204);
        Assert.NotNull(answers.Find(tenant, Name));
        (await Host.Get($"/api/v1/models/{Name}")).AssertProblem(404);
    }

    [Fact]
    public async Task two_workspaces_holding_the_same_name_each_answer_their_own_view_read_after_read()
    {
        var other = await App.NewWorkspace();
        await Host.RegisterModel(Name);
        await Host.Patch($"/api/v1/models/{Name}", new { description = "the default workspace's" }).Ok();
        Assert.Equal(201, (await Host.PostIn(other, $"/api/v1/workspaces/{other.Slug}/models", new { name = Name, description = "the other workspace's" })).Status);

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal("the default workspace's", (await Host.Get($"/api/v1/models/{Name}")).Body!["description"]!.GetValue<string>());
            var theirs = await Host.GetIn(other, $"/api/v1/workspaces/{other.Slug}/models/{Name}");
            Assert.Equal("the other workspace's", theirs.Body!["description"]!.GetValue<string>());
        }
        var answers = Host.Services.GetRequiredService<ModelViewAnswers>();
        Assert.NotSame(answers.Find(WorkspaceId.Default.TenantId, Name), answers.Find(other.TenantId, Name));
    }

    [Fact]
    public async Task a_missing_or_deleted_model_is_a_404_problem()
    {
        await Host.RegisterModel(Name);
        await Host.Delete($"/api/v1/models/{Name}?reason=retired").Ok(204);

        foreach (var name in new[] { Name, "never-registered" })
        {
            var problem = (await Host.Get($"/api/v1/models/{name}")).AssertProblem(404);
            Assert.Contains($"'{name}'", problem["detail"]!.GetValue<string>());
        }
    }
}
