using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Workspaces.Listing;

public static class ListWorkspacesEndpoint
{
    /// <summary>
    /// The platform admin sees every workspace (read from the directory's view); any other caller only the workspaces it
    /// is a member of, so a workspace it may not see shows nowhere, not even its slug.
    /// </summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.WorkspaceList>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/workspaces", OperationId = "ListWorkspaces")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceDirectory directory)
    {
        if (WorkspaceRules.IsPlatformAdmin(http))
        {
            var all = await directory.AllAsync(fresh: true, http.RequestAborted);
            return Results.Json(new Wire.WorkspaceList(all.Select(WorkspaceResponse.From).ToList()), Json.Options);
        }
        // Each of the caller's workspaces, looked up as the membership check does (one the node's copy lacks is read).
        var visible = new List<Wire.WorkspaceInfo>();
        foreach (var slug in WorkspaceMembership.MembershipsOf(http.User).Order(StringComparer.Ordinal))
            if (WorkspaceId.TryParse(slug, out var workspace) && await directory.FindAsync(workspace, fresh: false, http.RequestAborted) is { } view)
                visible.Add(WorkspaceResponse.From(view));
        return Results.Json(new Wire.WorkspaceList(visible), Json.Options);
    }
}
