using System.Diagnostics;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;

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
    /// <summary>
    /// One rebuild runs at a time in the whole registry (the workspaces share the database and its nodes), so B's request
    /// while A's runs is refused; neither that refusal nor B's reads of A's rebuild by its id say anything of A's.
    /// </summary>
    [Fact]
    public async Task another_workspaces_rebuild_is_not_found_by_its_id_and_refuses_a_second_one_without_naming_it()
    {
        var a = await CreateWorkspace();
        var b = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{a}/models", new { name = "churn" }, workspaces: a)).Status);
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{b}/models", new { name = "churn" }, workspaces: b)).Status);
        var bAdmin = await KeyIn(b, "admin");
        var aReader = await KeyIn(a, "reader");
        string id;
        await using (await StreamLocks.Hold(App.WorkspacesConnectionString, WorkspaceId.Parse(a)))
        {
            var started = await Post($"/api/v1/workspaces/{a}/admin/projections/rebuild", new { projection = "ModelView" }, workspaces: a);
            Assert.True(started.Status == 202, $"{started.Status} {started.Body}");
            id = started.Body!["id"]!.GetValue<string>();

            var theirs = await Get($"/api/v1/workspaces/{b}/admin/projections/rebuilds/{id}", key: bAdmin);
            var unknown = await Get($"/api/v1/workspaces/{b}/admin/projections/rebuilds/{Guid.NewGuid()}", key: bAdmin);
            theirs.AssertProblem(404);
            Assert.Equal(Fingerprint(unknown), Fingerprint(theirs));

            var refused = await Post($"/api/v1/workspaces/{b}/admin/projections/rebuild", new { projection = "ModelView" }, key: bAdmin);
            refused.AssertProblem(409);
            Assert.DoesNotContain(id, refused.Body!.ToJsonString());
            Assert.DoesNotContain(a, refused.Body.ToJsonString());
            var bStatus = await Get($"/api/v1/workspaces/{b}/admin/projections", key: bAdmin);
            Assert.Null(bStatus.Body!["rebuild"]);

            // B's admin on A's routes, and A's reader: refused, with nothing of the rebuild in the answer.
            foreach (var (key, path) in new[] { (bAdmin, $"/api/v1/workspaces/{a}/admin/projections/rebuilds/{id}"),
                         (bAdmin, $"/api/v1/workspaces/{a}/admin/projections"), (aReader, $"/api/v1/workspaces/{a}/admin/projections/rebuilds/{id}") })
            {
                var denied = await Get(path, key: key);
                Assert.True(denied.Status is 403 or 404, $"{path}: {denied.Status} {denied.Body}");
                Assert.DoesNotContain(id, denied.Body?.ToJsonString() ?? "");
            }
        }

        var deadline = Stopwatch.StartNew();
        string state;
        do
        {
            state = (await Get($"/api/v1/workspaces/{a}/admin/projections/rebuilds/{id}", workspaces: a)).Body!["state"]!.GetValue<string>();
            if (state == "running") await Task.Delay(100);
        } while (state == "running" && deadline.Elapsed < TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", state);
    }
}
