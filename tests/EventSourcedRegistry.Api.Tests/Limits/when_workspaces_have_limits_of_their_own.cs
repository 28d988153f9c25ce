using System.Net.Http.Headers;
using Alba;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Limits;

/// <summary>
/// Issue 20, item 4: a workspace's own rate limits and artifact quota, on the limited host (configuration: buckets of 5
/// commands refilled hourly, a quota of 100,000 bytes). On main every workspace had the configuration's limits, and one
/// caller's bucket was shared by all the workspaces it called.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_workspaces_have_limits_of_their_own(AppFixture app)
{
    private static string Policy(string ws) => $"/api/v1/workspaces/{ws}/settings/policy";

    private static async Task<(string A, string B)> TwoWorkspaces(IAlbaHost host)
    {
        using var platform = AppFixture.FreshCaller(host, "platform-admin");
        var slugs = new[] { $"lim-{Guid.NewGuid():N}"[..16], $"lim-{Guid.NewGuid():N}"[..16] };
        foreach (var slug in slugs)
        {
            var made = await platform.Send(HttpMethod.Post, "/api/v1/workspaces", new { slug, displayName = slug });
            Assert.True(made.Status == 201, $"{made.Status} {made.Body}");
        }
        return (slugs[0], slugs[1]);
    }

    private static async Task<RegistryCalls.Response> SetPolicy(IAlbaHost host, string ws, object policy)
    {
        using var admin = AppFixture.FreshCaller(host, $"{ws}/admin");
        return await admin.Send(HttpMethod.Put, Policy(ws), policy);
    }

    private static async Task<long> Events(IAlbaHost host, string ws)
    {
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession(WorkspaceId.Parse(ws).TenantId);
        return await session.Events.QueryAllRawEvents().CountAsync();
    }

    private static Task<RegistryCalls.Response> Register(HttpClient client, string ws, string name) =>
        client.Send(HttpMethod.Post, $"/api/v1/workspaces/{ws}/models", new { name });

    private static async Task<RegistryCalls.Response> Upload(HttpClient client, string ws, byte[] bytes)
    {
        var content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } };
        return await RegistryCalls.Read(await client.PostAsync($"/api/v1/workspaces/{ws}/artifacts", content));
    }

    [Fact]
    public async Task a_workspace_that_lowers_its_command_limit_holds_its_callers_to_it_and_no_one_elsewhere()
    {
        var host = await app.LimitedHost();
        var (a, b) = await TwoWorkspaces(host);

        var set = await SetPolicy(host, a, new { rateLimits = new { commands = 1, commandBurst = 2 }, reason = "noisy neighbour" });

        Assert.True(set.Status == 200, $"{set.Status} {set.Body}");
        Assert.Equal(2, set.Body!["rateLimits"]!["commandBurst"]!["value"]!.GetValue<int>());
        Assert.Equal(PolicySources.Workspace, set.Body["rateLimits"]!["commandBurst"]!["source"]!.GetValue<string>());
        Assert.Equal(PolicySources.Configuration, set.Body["rateLimits"]!["readBurst"]!["source"]!.GetValue<string>());
        Assert.Equal(AppFixture.LimitedQuotaBytes, set.Body["artifactQuotaBytes"]!["value"]!.GetValue<long>());

        // One caller in both workspaces, and a caller of b alone, send the same commands.
        using var both = AppFixture.FreshCaller(host, $"{a}/contributor", $"{b}/contributor");
        using var ofB = AppFixture.FreshCaller(host, $"{b}/contributor");
        Assert.Equal(201, (await Register(both, a, "m1")).Status);
        Assert.Equal(201, (await Register(both, a, "m2")).Status);
        var before = await Events(host, a);

        var refused = await Register(both, a, "m3");

        var problem = refused.AssertProblem(429);
        Assert.Contains("the workspace's policy", problem["detail"]!.GetValue<string>());
        Assert.NotNull(refused.Raw.Headers.RetryAfter);
        Assert.Equal(before, await Events(host, a));
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(201, (await Register(both, b, $"m{i}")).Status);    // busy in a, not throttled in b
            Assert.Equal(201, (await Register(ofB, b, $"n{i}")).Status);
        }
    }

    [Fact]
    public async Task a_workspace_with_a_small_quota_is_507_while_one_with_the_default_stores_the_same_upload()
    {
        var host = await app.LimitedHost();
        var (a, b) = await TwoWorkspaces(host);
        Assert.Equal(200, (await SetPolicy(host, a, new { artifactQuotaBytes = 1_000 })).Status);
        using var uploader = AppFixture.FreshCaller(host, $"{a}/contributor", $"{b}/contributor");
        var bytes = TestContent.Bytes(2600, 5_000);

        var refused = await Upload(uploader, a, bytes);
        var stored = await Upload(uploader, b, bytes);

        var problem = refused.AssertProblem(507);
        Assert.Contains("quota of 1000 bytes (the workspace's policy", problem["detail"]!.GetValue<string>());
        Assert.True(stored.Status == 201, $"{stored.Status} {stored.Body}");
        // What fits a's quota is stored there.
        Assert.Equal(201, (await Upload(uploader, a, TestContent.Bytes(2601, 900))).Status);
    }
}
