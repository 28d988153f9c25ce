using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Workspaces;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// Another node's change is the directory's events written without this node's copy hearing of it: appended here
/// straight to the store, right after this node loaded its copy (so its refresh interval has not run out).
/// </summary>
public sealed class when_another_node_changes_the_directory(AppFixture app) : WorkspaceTest(app)
{
    private async Task AppendElsewhere(object @event)
    {
        await using var session = Store.LightweightSession(WorkspaceId.Platform.TenantId);
        session.Events.Append(WorkspaceDirectoryStream.Id, @event);
        await session.SaveChangesAsync();
    }

    [Fact]
    public async Task a_workspace_created_elsewhere_is_addressable_at_the_next_request()
    {
        Assert.Equal(200, (await Get("/api/v1/workspaces", workspaces: "default")).Status); // this node's copy, fresh
        var slug = NewSlug();
        await WorkspacePartitions.AddAsync(Store, WorkspaceId.Parse(slug), CancellationToken.None);
        await AppendElsewhere(new WorkspaceCreated(slug, "Made elsewhere"));

        var registered = await Post($"/api/v1/workspaces/{slug}/models", new { name = "churn" }, workspaces: slug);
        var listed = await Get("/api/v1/workspaces", workspaces: slug, key: await KeyIn(slug, "reader"));

        Assert.True(registered.Status == 201, $"{registered.Status} {registered.Body}");
        Assert.Equal([slug], listed.Body!["items"]!.AsArray().Select(w => w!["slug"]!.GetValue<string>()));
    }

    [Fact]
    public async Task a_workspace_archived_elsewhere_refuses_the_next_command()
    {
        var slug = await CreateWorkspace();
        Assert.Equal(201, (await Post($"/api/v1/workspaces/{slug}/models", new { name = "churn" }, workspaces: slug)).Status);
        await AppendElsewhere(new WorkspaceArchived(slug));

        var refused = await Post($"/api/v1/workspaces/{slug}/models", new { name = "fraud" }, workspaces: slug);

        refused.AssertProblem(409);
        Assert.Equal(200, (await Get($"/api/v1/workspaces/{slug}/models/churn", workspaces: slug)).Status);
    }
}
