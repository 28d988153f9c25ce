using EventSourcedRegistry.Api.Infrastructure;
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
    [WolverineGet("/api/v1/workspaces", OperationId = "ListWorkspaces")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceDirectory directory)
    {
        var admin = WorkspaceRules.IsPlatformAdmin(http);
        var all = await directory.AllAsync(fresh: admin, http.RequestAborted);
        var memberships = WorkspaceMembership.MembershipsOf(http.User);
        var visible = admin ? all : all.Where(v => memberships.Contains(v.Id));
        return Results.Json(new WorkspaceList(visible.Select(WorkspaceResponse.From).ToList()), Json.Options);
    }
}
