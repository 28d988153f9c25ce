using System.Text.Json.Nodes;
using EventSourcedRegistry.Access;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// A stream's first event, raced: a new workspace's settings and access streams, and the directory's, do not exist
/// until something is written to them, so the first concurrent writers all start one stream at once. Each gets an
/// answer it can act on (the change, or 409 and nothing written), never a 500, and nothing acknowledged is lost.
/// The host's data is reset before each test, so the directory stream's race is the first creation of
/// <c>when_managing_workspaces</c>.
/// </summary>
public sealed class when_the_first_changes_of_a_stream_race(AppFixture app) : WorkspaceTest(app)
{
    private const int Racers = 8;

    private async Task<long> StreamVersion(string workspace, Guid stream)
    {
        await using var session = Store.QuerySession(WorkspaceId.Parse(workspace).TenantId);
        return (await session.Events.FetchStreamStateAsync(stream))?.Version ?? 0;
    }

    [Fact]
    public async Task the_first_policies_of_a_new_workspace_are_each_set_or_refused_409()
    {
        var ws = await CreateWorkspace();
        var admin = await AdminOf(ws);

        var answers = await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Send(HttpMethod.Put, $"/api/v1/workspaces/{ws}/settings/policy", key: admin,
            rawBody: $$"""{"approvals":{"protectedStages":["Staging"],"protectedAliases":[],"requiredApprovals":{{1 + i % 3}}},"reason":"racer {{i}}"}""")));

        Assert.All(answers, a => Assert.True(a.Status is 200 or 409, $"{a.Status} {a.Body}"));
        Assert.Contains(answers, a => a.Status == 200);
        Assert.All(answers.Where(a => a.Status == 409), a => a.AssertProblem(409));
        Assert.Equal(answers.Count(a => a.Status == 200), await StreamVersion(ws, RegistrySettings.StreamId));
    }

    [Fact]
    public async Task the_first_metadata_standards_of_a_new_workspace_are_each_set_or_refused_409()
    {
        var ws = await CreateWorkspace();
        var admin = await AdminOf(ws);

        var answers = await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Send(HttpMethod.Put, $"/api/v1/workspaces/{ws}/registry/metadata-schema",
            new JsonObject { ["schema"] = new JsonObject { ["type"] = "object", ["required"] = new JsonArray($"field{i}") }, ["reason"] = $"racer {i}" }, key: admin)));

        Assert.All(answers, a => Assert.True(a.Status is 200 or 409, $"{a.Status} {a.Body}"));
        Assert.Contains(answers, a => a.Status == 200);
        Assert.Equal(answers.Count(a => a.Status == 200), await StreamVersion(ws, RegistrySettings.StreamId));
    }

    [Fact]
    public async Task the_first_keys_of_a_new_workspace_are_all_made_and_all_recorded()
    {
        var ws = await CreateWorkspace();
        var admin = await AdminOf(ws);

        var answers = await Task.WhenAll(Enumerable.Range(0, Racers).Select(i => Send(HttpMethod.Post, $"/api/v1/workspaces/{ws}/admin/keys",
            new { name = $"racer-{i}", owner = $"owner-{i}", grants = new[] { new { role = "reader" } } }, key: admin)));

        Assert.All(answers, a => Assert.True(a.Status == 201, $"{a.Status} {a.Body}"));
        await using var session = Store.QuerySession(WorkspaceId.Parse(ws).TenantId);
        var recorded = (await session.Events.FetchStreamAsync(AccessStream.Id)).Select(e => e.Data).OfType<ApiKeyCreated>().Select(e => e.Name).Order();
        Assert.Equal(Enumerable.Range(0, Racers).Select(i => $"racer-{i}").Order(), recorded);
    }
}
