using System.Diagnostics;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

public sealed class when_a_workspace_reads_its_projections(AppFixture app) : WorkspaceTest(app)
{
    /// <summary>
    /// Guards GET /api/v1/admin/projections: it answered the node's latest rebuild whichever workspace ran it, so B's admin
    /// read A's slug, projections and event counts.
    /// </summary>
    [Fact]
    public async Task another_workspaces_rebuild_is_not_in_its_status()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{a}/models", new { name = "churn" }, workspaces: a)).Status);

        var started = await Post($"/api/v1/workspaces/{a}/admin/projections/rebuild", new { projection = "ModelView" }, workspaces: a);
        Assert.True(started.Status == 202, $"{started.Status} {started.Body}");
        var id = started.Body!["id"]!.GetValue<string>();
        var deadline = Stopwatch.StartNew();
        string state;
        do
        {
            var status = await Send(HttpMethod.Get, $"/api/v1/workspaces/{a}/admin/projections", workspaces: a);
            Assert.Equal(id, status.Body!["rebuild"]!["id"]!.GetValue<string>());
            state = status.Body["rebuild"]!["state"]!.GetValue<string>();
            if (state == "running") await Task.Delay(100);
        } while (state == "running" && deadline.Elapsed < TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", state);

        var other = await Send(HttpMethod.Get, $"/api/v1/workspaces/{b}/admin/projections", workspaces: b);
        Assert.Equal(200, other.Status);
        Assert.Null(other.Body!["rebuild"]);
        Assert.DoesNotContain(a, other.Body.ToJsonString());
        Assert.DoesNotContain(id, other.Body.ToJsonString());
    }
}
