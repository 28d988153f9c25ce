using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Issue 20, item 4: a workspace's rate limits and artifact quota in its policy. Its members read them with where each
/// comes from, only its admin changes them, a stranger gets the unknown route's 404, and hostile values append nothing.
/// (Enforcement: Limits/when_workspaces_have_limits_of_their_own; this host has rate limits off and no quota.)
/// </summary>
public sealed class when_a_workspace_sets_its_limits(AppFixture app) : WorkspaceTest(app)
{
    private static string Policy(string ws) => $"/api/v1/workspaces/{ws}/settings/policy";

    private const string OwnLimits = """{"rateLimits":{"reads":50,"readBurst":100},"artifactQuotaBytes":1048576,"reason":"team quota"}""";

    private async Task<long> SettingsEvents(string ws)
    {
        await using var session = Store.QuerySession(WorkspaceId.Parse(ws).TenantId);
        return (await session.Events.FetchStreamStateAsync(RegistrySettings.StreamId))?.Version ?? 0;
    }

    [Fact]
    public async Task a_reader_sees_each_value_and_its_source_but_only_the_admin_changes_them_and_a_stranger_gets_404()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        Assert.Equal(200, (await Send(HttpMethod.Put, Policy(a), workspaces: a, rawBody: OwnLimits)).Status);
        var reader = await KeyIn(a, "reader");

        var read = await Get(Policy(a), workspaces: a, key: reader);

        Assert.True(read.Status == 200, $"{read.Status} {read.Body}");
        var rates = read.Body!["rateLimits"]!;
        Assert.False(rates["enabled"]!.GetValue<bool>());
        Assert.Equal((50, PolicySources.Workspace), (rates["reads"]!["value"]!.GetValue<int>(), rates["reads"]!["source"]!.GetValue<string>()));
        Assert.Equal((400, PolicySources.Configuration), (rates["commandBurst"]!["value"]!.GetValue<int>(), rates["commandBurst"]!["source"]!.GetValue<string>()));
        Assert.Equal(1048576, read.Body["artifactQuotaBytes"]!["value"]!.GetValue<long>());
        Assert.Equal(PolicySources.Workspace, read.Body["artifactQuotaBytes"]!["source"]!.GetValue<string>());
        (await Send(HttpMethod.Put, Policy(a), workspaces: a, key: reader, rawBody: """{"rateLimits":{"reads":1000000,"readBurst":1000000}}""")).AssertProblem(403);
        (await Send(HttpMethod.Delete, Policy(a), workspaces: a, key: reader)).AssertProblem(403);

        var unknownRoute = Fingerprint(await Get($"/api/v1/workspaces/{a}/no-such-route", workspaces: b));
        Assert.Equal(unknownRoute, Fingerprint(await Get(Policy(a), workspaces: b)));
        Assert.Equal(unknownRoute, Fingerprint(await Send(HttpMethod.Put, Policy(a), workspaces: b, rawBody: OwnLimits)));
        Assert.Equal(1, await SettingsEvents(a));

        // Removing the policy removes the limits too: every value is the configuration's again (no quota on this host).
        Assert.Equal(204, (await Send(HttpMethod.Delete, Policy(a), workspaces: a)).Status);
        var after = (await Get(Policy(a), workspaces: a, key: reader)).Body!;
        Assert.Equal(PolicySources.Configuration, after["rateLimits"]!["reads"]!["source"]!.GetValue<string>());
        Assert.Equal(1000, after["rateLimits"]!["reads"]!["value"]!.GetValue<int>());
        Assert.Null(after["artifactQuotaBytes"]!["value"]);
        Assert.Equal(PolicySources.Configuration, after["artifactQuotaBytes"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task hostile_limits_are_400_and_append_nothing()
    {
        var a = await CreateWorkspace();

        foreach (var hostile in new[]
                 {
                     """{"rateLimits":{"commands":0}}""",
                     """{"rateLimits":{"commands":-1,"commandBurst":-1}}""",
                     """{"rateLimits":{"reads":1e400}}""",
                     """{"rateLimits":{"reads":1000001,"readBurst":1000001}}""",
                     """{"rateLimits":{"uploads":99999999999999999999}}""",
                     """{"rateLimits":{"commands":"10"}}""",
                     """{"rateLimits":{"commands":2.5}}""",
                     """{"rateLimits":{"commands":500}}""",       // over the configured burst of 400: never reachable
                     """{"rateLimits":"fast"}""",
                     """{"artifactQuotaBytes":0}""",
                     """{"artifactQuotaBytes":-1048576}""",
                     """{"artifactQuotaBytes":1e400}""",
                     """{"artifactQuotaBytes":"1048576"}""",
                     """{"artifactQuotaBytes":9223372036854775808}""",
                     """{"artifactQuotaBytes":1125899906842625}""",  // 1 PiB + 1
                 })
        {
            var refused = await Send(HttpMethod.Put, Policy(a), workspaces: a, rawBody: hostile);
            Assert.True(refused.Status == 400 && refused.Body?["status"]?.GetValue<int>() == 400, $"{hostile}: {refused.Status} {refused.Body}");
        }

        Assert.Equal(0, await SettingsEvents(a));
        Assert.Equal(PolicySources.Configuration, (await Get(Policy(a), workspaces: a)).Body!["rateLimits"]!["reads"]!["source"]!.GetValue<string>());
    }
}
