using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Two workspaces of one deployment, one with a policy of its own: it decides there and nowhere else; the other keeps
/// the configuration's (this host's protects nothing). Only members read it, only its admin changes it.
/// </summary>
public sealed class when_workspaces_have_policies_of_their_own(AppFixture app) : WorkspaceTest(app)
{
    private static string Policy(string ws) => $"/api/v1/workspaces/{ws}/settings/policy";

    private const string ProtectsStagingWithTwo =
        """{"approvals":{"protectedStages":["Staging"],"protectedAliases":[],"requiredApprovals":2},"reason":"release board"}""";

    private const string CanaryLifecycle = """{"lifecycle":{"stages":["None","Canary","Production","Archived"]}}""";

    private async Task<(string A, string B)> TwoWorkspacesWithChurn()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        foreach (var ws in new[] { a, b })
        {
            Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models", new { name = "churn" }, workspaces: ws)).Status);
            for (var i = 0; i < 2; i++)
                Assert.Equal(201, (await Post($"/api/v1/workspaces/{ws}/models/churn/versions",
                    new { artifact = new { uri = "s3://m/churn.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } }, workspaces: ws)).Status);
        }
        return (a, b);
    }

    private Task<RegistryCalls.Response> Promote(string ws, int version, string stage) =>
        Post($"/api/v1/workspaces/{ws}/models/churn/versions/{version}/stage", new { stage }, workspaces: ws);

    private async Task<long> SettingsEvents(string ws)
    {
        await using var session = Store.QuerySession(WorkspaceId.Parse(ws).TenantId);
        return (await session.Events.FetchStreamStateAsync(RegistrySettings.StreamId))?.Version ?? 0;
    }

    [Fact]
    public async Task a_workspace_protecting_staging_with_two_approvals_gets_202_while_another_promotes_at_once()
    {
        var (a, b) = await TwoWorkspacesWithChurn();

        var set = await Send(HttpMethod.Put, Policy(a), workspaces: a, rawBody: ProtectsStagingWithTwo);
        Assert.True(set.Status == 200, $"{set.Status} {set.Body}");

        var requested = await Promote(a, 1, "Staging");
        Assert.True(requested.Status == 202, $"{requested.Status} {requested.Body}");
        Assert.Equal(2, requested.Body!["approvalsRequired"]!.GetValue<int>());
        var moved = await Promote(b, 1, "Staging");
        Assert.True(moved.Status == 200, $"{moved.Status} {moved.Body}");
        Assert.Equal(PolicySources.Configuration, (await Get(Policy(b), workspaces: b)).Body!["approvals"]!["source"]!.GetValue<string>());
        Assert.Equal(PolicySources.Workspace, (await Get(Policy(a), workspaces: a)).Body!["approvals"]!["source"]!.GetValue<string>());
        Assert.Equal(0, await SettingsEvents(b));
        // default (unprefixed) is a workspace like the others: the configuration decides there too.
        Assert.Equal(PolicySources.Configuration, (await Get("/api/v1/settings/policy")).Body!["approvals"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_custom_stage_works_in_its_workspace_only()
    {
        var (a, b) = await TwoWorkspacesWithChurn();
        Assert.Equal(200, (await Send(HttpMethod.Put, Policy(a), workspaces: a, rawBody: CanaryLifecycle)).Status);

        var canary = await Promote(a, 1, "Canary");
        var elsewhere = await Promote(b, 1, "Canary");

        Assert.True(canary.Status == 200, $"{canary.Status} {canary.Body}");
        Assert.Equal("Canary", canary.Body!["stage"]!.GetValue<string>());
        Assert.True(elsewhere.Status is 400 or 422, $"Canary is no stage in {b}: {elsewhere.Status} {elsewhere.Body}");
        Assert.Equal("None", (await Get($"/api/v1/workspaces/{b}/models/churn/versions/1", workspaces: b)).Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_member_who_is_a_reader_may_read_but_not_change_and_a_caller_of_another_workspace_gets_404()
    {
        var (a, b) = await TwoWorkspacesWithChurn();
        var reader = await KeyIn(a, "reader");

        Assert.Equal(200, (await Get(Policy(a), workspaces: a, key: reader)).Status);
        Assert.Equal(403, (await Send(HttpMethod.Put, Policy(a), workspaces: a, key: reader, rawBody: ProtectsStagingWithTwo)).Status);
        Assert.Equal(403, (await Send(HttpMethod.Delete, Policy(a), workspaces: a, key: reader)).Status);

        var unknownRoute = Fingerprint(await Get($"/api/v1/workspaces/{a}/no-such-route", workspaces: b));
        Assert.Equal(unknownRoute, Fingerprint(await Get(Policy(a), workspaces: b)));
        Assert.Equal(unknownRoute, Fingerprint(await Send(HttpMethod.Put, Policy(a), workspaces: b, rawBody: ProtectsStagingWithTwo)));
        Assert.Equal(unknownRoute, Fingerprint(await Send(HttpMethod.Delete, Policy(a), workspaces: b)));
        Assert.Equal(0, await SettingsEvents(a));
    }

    [Fact]
    public async Task a_hostile_policy_in_one_workspace_appends_nothing_there_and_changes_nothing_elsewhere()
    {
        var (a, b) = await TwoWorkspacesWithChurn();
        Assert.Equal(200, (await Send(HttpMethod.Put, Policy(b), workspaces: b, rawBody: CanaryLifecycle)).Status);

        foreach (var hostile in new[]
                 {
                     """{"approvals":{"protectedStages":["Canary"]}}""", // Canary is b's, not a's
                     """{"approvals":{"requiredApprovals":1e400}}""",
                     "{\"lifecycle\":{\"stages\":[" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"s{i}\"")) + "]}}",
                 })
        {
            var refused = await Send(HttpMethod.Put, Policy(a), workspaces: a, rawBody: hostile);
            Assert.True(refused.Status == 400, $"{refused.Status} {refused.Body}");
        }

        Assert.Equal(0, await SettingsEvents(a));
        Assert.Equal(1, await SettingsEvents(b));
    }
}
