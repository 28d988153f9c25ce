using System.Text.Json;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Registering, promoting and assigning an alias (and MLflow's create and transition) start from this node's last read of
/// the workspace's policy and confirm its revision in the batch that locks the model's stream (issue 17: one round trip
/// fewer per command). Another node's change is the settings event appended straight to the store, after this node's copy
/// was taken: the next command on this node must decide under the new policy, as if it had read it, and append once. Each
/// test has a workspace of its own.
/// </summary>
public sealed class when_another_node_changes_a_workspaces_policy(AppFixture app) : Mlflow.MlflowTest(app)
{
    private const string Model = "churn";

    private WorkspacePolicies Policies => Host.Services.GetRequiredService<WorkspacePolicies>();

    /// <summary>A workspace with a model of <paramref name="versions"/> versions: registering them took this node's copy.</summary>
    private async Task<string> WorkspaceWithChurn(int versions)
    {
        var ws = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models", new { name = Model }, workspaces: ws)).Status);
        for (var i = 0; i < versions; i++) Assert.Equal(201, (await Register(ws)).Status);
        Assert.Equal(0, Policies.LastRead(WorkspaceId.Parse(ws))!.Revision);
        return ws;
    }

    private Task<RegistryCalls.Response> Register(string ws, object? metadata = null) =>
        Post($"/api/v1/workspaces/{ws}/models/{Model}/versions",
            new { artifact = new { uri = "s3://m/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 }, metadata }, workspaces: ws);

    private Task<RegistryCalls.Response> Promote(string ws, int version, string stage) =>
        Post($"/api/v1/workspaces/{ws}/models/{Model}/versions/{version}/stage", new { stage }, workspaces: ws);

    /// <summary>Another node's change: the settings event appended without this node's routes (its copy is not told).</summary>
    private async Task AnotherNodeAppends(string ws, object settingsEvent)
    {
        await using var session = Store.LightweightSession(WorkspaceId.Parse(ws).TenantId);
        // As the policy route appends (with the stream's version, which the settings' revision is).
        var stream = await session.Events.FetchForWriting<RegistrySettings>(RegistrySettings.StreamId);
        stream.AppendOne(settingsEvent);
        await session.SaveChangesAsync();
    }

    private async Task<long> ModelRevision(string ws)
    {
        await using var session = Store.QuerySession(WorkspaceId.Parse(ws).TenantId);
        var id = (await session.LoadAsync<EventSourcedRegistry.Models.ModelNameIndex>(Model))!.ModelId;
        return (await session.Events.FetchStreamStateAsync(id))!.Version;
    }

    [Fact]
    public async Task a_protection_set_elsewhere_turns_this_nodes_next_promotion_into_a_request_appended_once()
    {
        var ws = await WorkspaceWithChurn(versions: 2);
        Assert.Equal(200, (await Promote(ws, 1, "Staging")).Status);
        await AnotherNodeAppends(ws, new WorkspacePolicySet(null, new ApprovalsPolicy(["Staging"], [], 2, null)));
        var before = await ModelRevision(ws);

        var requested = await Promote(ws, 2, "Staging");

        Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");
        Assert.Equal(2, requested.Body!["approvalsRequired"]!.GetValue<int>());
        Assert.Equal(before + 1, await ModelRevision(ws));
        Assert.Equal("None", (await Get($"/api/v1/workspaces/{ws}/models/{Model}/versions/2", workspaces: ws)).Body!["stage"]!.GetValue<string>());
        // The copy is now the read that confirmed the change.
        Assert.Equal(1, Policies.LastRead(WorkspaceId.Parse(ws))!.Revision);
    }

    [Fact]
    public async Task an_alias_protected_elsewhere_turns_this_nodes_next_assignment_into_a_request_appended_once()
    {
        var ws = await WorkspaceWithChurn(versions: 2);
        var route = $"/api/v1/workspaces/{ws}/models/{Model}/aliases/champion";
        Assert.Equal(200, (await Send(HttpMethod.Put, route, new { version = 1 }, workspaces: ws)).Status);
        await AnotherNodeAppends(ws, new WorkspacePolicySet(null, new ApprovalsPolicy([], ["champion"], 2, null)));
        var before = await ModelRevision(ws);

        var requested = await Send(HttpMethod.Put, route, new { version = 2 }, workspaces: ws);

        Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");
        Assert.Equal(before + 1, await ModelRevision(ws));
        Assert.Equal(1, (await Get($"/api/v1/workspaces/{ws}/models/{Model}", workspaces: ws)).Body!["aliases"]!["champion"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_stage_added_elsewhere_is_not_refused_by_this_nodes_older_copy()
    {
        var ws = await WorkspaceWithChurn(versions: 1);
        await AnotherNodeAppends(ws, new WorkspacePolicySet(new LifecyclePolicy(["None", "Canary", "Production", "Archived"], null, null, null, null), null));

        var canary = await Promote(ws, 1, "Canary");

        Assert.True(canary.Status == 200, $"{canary.Status} {canary.Body}");
        Assert.Equal("Canary", canary.Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_stage_no_policy_defines_is_still_refused_and_appends_nothing()
    {
        var ws = await WorkspaceWithChurn(versions: 1);
        var before = await ModelRevision(ws);

        var refused = await Promote(ws, 1, "Canary");

        Assert.True(refused.Status is 400 or 422, $"{refused.Status} {refused.Body}");
        Assert.Contains("Canary", refused.Body!.ToJsonString());
        Assert.Equal(before, await ModelRevision(ws));
    }

    [Fact]
    public async Task a_metadata_standard_set_elsewhere_holds_this_nodes_next_registration_to_it()
    {
        var ws = await WorkspaceWithChurn(versions: 1);
        var schema = JsonDocument.Parse("""{"type":"object","required":["owner"]}""").RootElement.Clone();
        await AnotherNodeAppends(ws, new RegistryMetadataSchemaSet(schema));
        var before = await ModelRevision(ws);

        var refused = await Register(ws, metadata: new { team = "growth" });

        Assert.True(refused.Status is 400 or 422, $"{refused.Status} {refused.Body}");
        Assert.Contains("registry metadata schema", refused.Body!.ToJsonString());
        Assert.Equal(before, await ModelRevision(ws));
        Assert.Equal(201, (await Register(ws, metadata: new { owner = "growth" })).Status);
    }

    [Fact]
    public async Task a_policy_stored_elsewhere_that_this_configuration_does_not_admit_stops_both_commands_and_appends_nothing()
    {
        var ws = await WorkspaceWithChurn(versions: 1);
        // Approvals naming a stage the lifecycle does not have: written past the validator, as after a redeploy.
        await AnotherNodeAppends(ws, new WorkspacePolicySet(null, new ApprovalsPolicy(["Canary"], [], null, null)));
        var before = await ModelRevision(ws);

        var registered = await Register(ws);
        var promoted = await Promote(ws, 1, "Staging");

        Assert.True(registered.Status == 503, $"{registered.Status} {registered.Body}");
        Assert.True(promoted.Status == 503, $"{promoted.Status} {promoted.Body}");
        Assert.Equal(before, await ModelRevision(ws));
    }

    [Fact]
    public async Task mlflow_moves_to_a_stage_added_elsewhere_and_asks_for_approval_where_it_is_protected_elsewhere()
    {
        var ws = await WorkspaceWithChurn(versions: 2);
        var admin = Credential.Bearer(await KeyIn(ws, "admin"));
        await AnotherNodeAppends(ws, new WorkspacePolicySet(new LifecyclePolicy(["None", "Canary", "Production", "Archived"], null, null, null, null), null));

        var canary = await Mlflow(ws, HttpMethod.Post, "model-versions/transition-stage",
            new { name = Model, version = "1", stage = "Canary", archive_existing_versions = false }, admin);
        Assert.True(canary.Status == 200, $"{canary.Status} {canary.Body}");
        Assert.Equal("Canary", canary.Body!["model_version"]!["current_stage"]!.GetValue<string>());

        await AnotherNodeAppends(ws, new WorkspacePolicySet(new LifecyclePolicy(["None", "Canary", "Production", "Archived"], null, null, null, null),
            new ApprovalsPolicy(["Canary"], [], 2, null)));
        var before = await ModelRevision(ws);
        var protectedMove = await Mlflow(ws, HttpMethod.Post, "model-versions/transition-stage",
            new { name = Model, version = "2", stage = "Canary", archive_existing_versions = false }, admin);
        Assert.NotEqual(200, protectedMove.Status);
        Assert.Equal(before + 1, await ModelRevision(ws));
        Assert.Equal("None", (await Get($"/api/v1/workspaces/{ws}/models/{Model}/versions/2", workspaces: ws)).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task mlflow_registration_is_held_to_a_metadata_standard_set_elsewhere()
    {
        var ws = await WorkspaceWithChurn(versions: 1);
        var admin = Credential.Bearer(await KeyIn(ws, "admin"));
        await AnotherNodeAppends(ws, new RegistryMetadataSchemaSet(JsonDocument.Parse("""{"type":"object","required":["owner"]}""").RootElement.Clone()));
        var before = await ModelRevision(ws);

        var refused = await Mlflow(ws, HttpMethod.Post, "model-versions/create", new { name = Model, source = "s3://bucket/churn/2" }, admin);

        Assert.True(refused.Status == 400, $"{refused.Status} {refused.Body}");
        Assert.Equal(before, await ModelRevision(ws));
    }
}
