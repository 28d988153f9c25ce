using System.Collections.Concurrent;
using Alba;
using EventSourcedRegistry.Store;

namespace EventSourcedRegistry.Api.Tests.Support;

/// <summary>
/// What a test needs to act in a workspace other than <c>default</c> the way a real caller does: the workspace in the
/// directory (created by the platform admin, the bootstrap key) and a key that is its admin (a platform key holding
/// admin there). The bootstrap key is a member of <c>default</c> only.
/// </summary>
public static class WorkspaceMembers
{
    private static readonly ConcurrentDictionary<(IAlbaHost Host, string Workspace), string> Admins = new();

    /// <summary>Creates the workspace through the directory's route; a workspace that exists already is fine.</summary>
    public static async Task CreateInDirectory(this IAlbaHost host, WorkspaceId workspace)
    {
        if (workspace == WorkspaceId.Default) return;
        using var client = host.ClientWithKey(AppFixture.AdminKey);
        var created = await client.Send(HttpMethod.Post, "/api/v1/workspaces", new { slug = workspace.Slug, displayName = $"Workspace {workspace}" });
        Assert.True(created.Status is 200 or 201 or 409, $"creating {workspace}: {created.Status} {created.Body}");
    }

    /// <summary>
    /// A key that is admin of <paramref name="workspace"/> (made once per host; keys outlive the per-test reset, and a
    /// grant names the workspace by slug); for <c>default</c>, the bootstrap key.
    /// </summary>
    public static async Task<string> AdminKeyOf(this IAlbaHost host, WorkspaceId workspace)
    {
        if (workspace == WorkspaceId.Default) return AppFixture.AdminKey;
        if (Admins.TryGetValue((host, workspace.Slug), out var known)) return known;
        using var client = host.ClientWithKey(AppFixture.AdminKey);
        var made = await client.Send(HttpMethod.Post, "/api/v1/platform/keys", new
        {
            name = $"admin-{Guid.NewGuid():N}", owner = $"admin@{workspace}",
            grants = new[] { new { role = "admin", workspace = workspace.Slug } },
        });
        Assert.True(made.Status == 201, $"a key for {workspace}: {made.Status} {made.Body}");
        return Admins[(host, workspace.Slug)] = made.Body!["key"]!.GetValue<string>();
    }
}
