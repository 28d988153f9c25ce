using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Settings;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// A workspace's own policy (issue 20 item 4): lifecycle with gates and four-eyes approvals as events in its settings
/// stream, the configuration as the default. The shared host's configuration protects nothing (approvals off), so
/// "configuration" here means: every promotion acts at once, on the default lifecycle.
/// </summary>
public sealed class when_a_workspace_sets_its_policy(AppFixture app) : ApiTest(app)
{
    private const string Route = "/api/v1/settings/policy";
    private const string Churn = "churn";

    private static readonly JsonObject ProtectsStagingWithTwo = JsonNode.Parse("""
        {"approvals":{"protectedStages":["staging"],"protectedAliases":[],"requiredApprovals":2},"reason":"release board"}
        """)!.AsObject();

    private static readonly JsonObject CanaryLifecycle = JsonNode.Parse("""
        {"lifecycle":{"stages":["None","Canary","Production","Archived"],
                      "gates":{"Production":{"metrics":["auc >= 0.9"]}}}}
        """)!.AsObject();

    private Task<RegistryCalls.Response> Put(JsonNode body, IDictionary<string, string>? headers = null) =>
        Host.Send(HttpMethod.Put, Route, headers: headers, rawBody: body.ToJsonString());

    private async Task GivenChurn(int versions, object? extra = null)
    {
        await Host.RegisterModel(Churn);
        for (var i = 0; i < versions; i++) await Host.RegisterVersion(Churn, extra: extra);
    }

    [Fact]
    public async Task without_a_policy_the_configuration_answers_and_says_so()
    {
        var read = await Host.Get(Route).Ok();

        Assert.Equal("\"0\"", read.ETag);
        Assert.Equal(PolicySources.Configuration, read.Body!["lifecycle"]!["source"]!.GetValue<string>());
        Assert.Equal(PolicySources.Configuration, read.Body["approvals"]!["source"]!.GetValue<string>());
        Assert.Equal(["None", "Staging", "Production", "Archived"], read.Body["lifecycle"]!["stages"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Empty(read.Body["approvals"]!["protectedStages"]!.AsArray());
    }

    [Fact]
    public async Task a_policy_protecting_staging_with_two_approvals_turns_a_staging_promotion_into_a_request_until_it_is_removed()
    {
        await GivenChurn(versions: 2);

        var set = await Put(ProtectsStagingWithTwo).Ok();

        Assert.Equal("\"1\"", set.ETag);
        Assert.Equal(PolicySources.Workspace, set.Body!["approvals"]!["source"]!.GetValue<string>());
        Assert.Equal(PolicySources.Configuration, set.Body["lifecycle"]!["source"]!.GetValue<string>());
        Assert.Equal(["Staging"], set.Body["approvals"]!["protectedStages"]!.AsArray().Select(s => s!.GetValue<string>()));
        var request = await Host.Promote(Churn, 1, "Staging").Ok(202);
        Assert.Equal(2, request.Body!["approvalsRequired"]!.GetValue<int>());
        Assert.Equal("None", (await Host.Get($"/api/v1/models/{Churn}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());

        await Host.Send(HttpMethod.Delete, Route + "?reason=back%20to%20defaults").Ok(204);

        var moved = await Host.Promote(Churn, 2, "Staging").Ok();
        Assert.Equal("Staging", moved.Body!["stage"]!.GetValue<string>());
        var read = await Host.Get(Route).Ok();
        Assert.Equal("\"2\"", read.ETag);
        Assert.Equal(PolicySources.Configuration, read.Body!["approvals"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_custom_stage_and_its_gate_apply_while_the_policy_defines_them()
    {
        await GivenChurn(versions: 2, extra: new { metrics = new { auc = 0.8 } });

        var set = await Put(CanaryLifecycle).Ok();

        Assert.Equal(PolicySources.Workspace, set.Body!["lifecycle"]!["source"]!.GetValue<string>());
        Assert.Equal(["auc >= 0.9"], set.Body["lifecycle"]!["gates"]!["Production"]!["metrics"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("Canary", (await Host.Promote(Churn, 1, "canary").Ok()).Body!["stage"]!.GetValue<string>());
        (await Host.Promote(Churn, 1, "Production")).AssertProblem(409);
        Assert.Contains("Canary", (await Host.Get($"/api/v1/models/{Churn}/versions").Ok()).Body!.ToJsonString());

        await Host.Send(HttpMethod.Delete, Route).Ok(204);

        var refused = await Host.Promote(Churn, 2, "Canary");
        Assert.True(refused.Status is 400 or 422, $"Canary is no stage of the configured lifecycle: {refused.Status} {refused.Body}");
        Assert.Equal("Production", (await Host.Promote(Churn, 2, "Production").Ok()).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task the_change_is_in_the_settings_stream_with_its_reason_and_actor()
    {
        await Put(ProtectsStagingWithTwo).Ok();

        await using var session = Store.QuerySession(EventSourcedRegistry.Store.WorkspaceId.Default.TenantId);
        var events = await session.Events.FetchStreamAsync(RegistrySettings.StreamId);
        var stored = Assert.IsType<WorkspacePolicySet>(Assert.Single(events).Data);
        Assert.Null(stored.Lifecycle);
        Assert.Equal(2, stored.Approvals!.RequiredApprovals);
        Assert.Equal(AppFixture.AdminActor, events[0].UserName);
    }

    [Fact]
    public async Task a_reader_may_read_the_policy_but_not_change_or_remove_it()
    {
        var reader = await Host.ClientWithRoles("reader");
        var writer = await Host.ClientWithRoles("contributor");

        Assert.Equal(200, (await reader.Send(HttpMethod.Get, Route)).Status);
        Assert.Equal(403, (await reader.Send(HttpMethod.Put, Route, ProtectsStagingWithTwo)).Status);
        Assert.Equal(403, (await writer.Send(HttpMethod.Put, Route, ProtectsStagingWithTwo)).Status);
        Assert.Equal(403, (await reader.Send(HttpMethod.Delete, Route)).Status);
        Assert.Equal(401, (await Host.AnonymousClient().Send(HttpMethod.Get, Route)).Status);
        Assert.Equal("\"0\"", (await Host.Get(Route).Ok()).ETag);
    }

    [Fact]
    public async Task a_stale_if_match_is_refused_with_412_and_changes_nothing()
    {
        await Put(ProtectsStagingWithTwo).Ok();
        var before = await RegistrySnapshot.Take(Host, Store);

        var stale = await Put(CanaryLifecycle, new Dictionary<string, string> { ["If-Match"] = "\"0\"" });

        stale.AssertProblem(412);
        await before.AssertUnchanged(Host, Store);
        await Put(CanaryLifecycle, new Dictionary<string, string> { ["If-Match"] = "\"1\"" }).Ok();
    }

    [Fact]
    public async Task removing_a_policy_that_was_never_set_appends_nothing()
    {
        var before = await RegistrySnapshot.Take(Host, Store);

        await Host.Send(HttpMethod.Delete, Route).Ok(204);

        await before.AssertUnchanged(Host, Store);
    }

    [Fact]
    public async Task a_stored_policy_the_configuration_no_longer_admits_fails_closed_until_the_admin_replaces_it()
    {
        await GivenChurn(versions: 1);
        // As after a redeploy whose lifecycle dropped a stage the workspace protects: written past the validator.
        await using (var session = Store.LightweightSession(EventSourcedRegistry.Store.WorkspaceId.Default.TenantId))
        {
            session.Events.StartStream<RegistrySettings>(RegistrySettings.StreamId,
                new WorkspacePolicySet(null, new ApprovalsPolicy(["Canary"], [], null, null)));
            await session.SaveChangesAsync();
        }

        (await Host.Promote(Churn, 1, "Staging")).AssertProblem(503);
        (await Host.Get(Route)).AssertProblem(503);
        Assert.Equal("None", (await Host.Get($"/api/v1/models/{Churn}/versions/1").Ok()).Body!["stage"]!.GetValue<string>());

        await Put(ProtectsStagingWithTwo).Ok();
        await Host.Promote(Churn, 1, "Staging").Ok(202);
    }

    public static TheoryData<string, string?> HostilePolicies => new()
    {
        // The startup validators' refusals, now per field.
        { """{"lifecycle":{"stages":["None","Staging"],"transitions":{"None":["Nowhere"]}}}""", "lifecycle" },
        { """{"lifecycle":{"stages":["Staging","staging"]}}""", "lifecycle" },
        { """{"lifecycle":{"stages":["None","Staging"],"initialStage":"Production"}}""", "lifecycle" },
        { """{"lifecycle":{"stages":["None","Staging"],"gates":{"Nowhere":{"tags":["x"]}}}}""", "lifecycle" },
        { """{"lifecycle":{"gates":{"None":{"tags":["x"]}}}}""", "lifecycle" },
        { """{"lifecycle":{"gates":{"Production":{"lineage":["gitHash"]}}}}""", "lifecycle" },
        { """{"lifecycle":{"gates":{"Production":{"metrics":["auc >= 1e400"]}}}}""", "lifecycle" },
        { """{"lifecycle":{"gates":{"Production":{"metrics":["auc >= NaN"]}}}}""", "lifecycle" },
        { """{"approvals":{"protectedStages":["Nowhere"]}}""", "approvals" },
        { """{"lifecycle":{"stages":["None","Canary","Archived"]},"approvals":{"protectedStages":["Production"]}}""", "approvals" },
        { """{"approvals":{"protectedAliases":["latest"]}}""", "approvals" },
        { """{"approvals":{"protectedAliases":["not an alias!"]}}""", "approvals" },
        { """{"approvals":{"requiredApprovals":0}}""", "approvals" },
        { """{"approvals":{"requiredApprovals":11}}""", "approvals" },
        { """{"approvals":{"approvalLifetime":"-1.00:00:00"}}""", "approvals" },
        { "{\"reason\":\"" + new string('r', 2001) + "\"}", "reason" },
        // Sizes: far beyond any real policy, refused before anything parses them.
        { "{\"lifecycle\":{\"stages\":[" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"s{i}\"")) + "]}}", "lifecycle.stages" },
        { "{\"lifecycle\":{\"stages\":[\"None\",\"" + new string('x', 5000) + "\"]}}", "lifecycle.stages" },
        { "{\"approvals\":{\"protectedAliases\":[" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"a{i}\"")) + "]}}", "approvals.protectedAliases" },
        { "{\"lifecycle\":{\"gates\":{\"Production\":{\"tags\":[" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"t{i}\"")) + "]}}}}", "lifecycle.gates.Production.tags" },
        // Not a policy at all: numbers out of range, wrong types, no object.
        { """{"approvals":{"requiredApprovals":1e400}}""", null },
        { """{"approvals":{"requiredApprovals":99999999999999999999}}""", null },
        { """{"approvals":{"approvalLifetime":"forever"}}""", null },
        { """{"lifecycle":{"stages":"None"}}""", null },
        { """{"lifecycle":{"stages":[null]}}""", null },
        { """null""", null },
        { """[]""", null },
    };

    [Theory]
    [MemberData(nameof(HostilePolicies))]
    public async Task a_hostile_policy_is_refused_with_its_field_and_appends_nothing(string body, string? field)
    {
        await GivenChurn(versions: 1);
        var before = await RegistrySnapshot.Take(Host, Store);

        var response = await Host.Send(HttpMethod.Put, Route, rawBody: body);

        Assert.True(response.Status is 400 or 422, $"{response.Status}: {response.Body}");
        response.AssertProblem(response.Status, field);
        await before.AssertUnchanged(Host, Store);
        Assert.Equal("\"0\"", (await Host.Get(Route).Ok()).ETag);
        // And the configuration still decides: the shared host protects nothing.
        await Host.Promote(Churn, 1, "Staging").Ok();
    }
}
