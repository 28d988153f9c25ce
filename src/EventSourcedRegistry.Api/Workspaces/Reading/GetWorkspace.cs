using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Workspaces.Reading;

public static class GetWorkspaceEndpoint
{
    /// <summary>One workspace, to the platform admin and its members; to anyone else the answer of a workspace that does not exist.</summary>
    [Authorize(Policy = Policies.Authenticated)]
    [ProducesResponseType<Wire.WorkspaceInfo>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/workspaces/{ws}", OperationId = "GetWorkspace")]
    public static async Task<IResult> Get(string ws, HttpContext http, WorkspaceDirectory directory)
    {
        if (!WorkspaceId.TryParse(ws, out var workspace) || !WorkspaceRules.MaySee(http, workspace)) return WorkspaceRules.NotFound(ws);
        var view = await directory.FindAsync(workspace, fresh: WorkspaceRules.IsPlatformAdmin(http), http.RequestAborted);
        return view is null ? WorkspaceRules.NotFound(ws) : Results.Json(WorkspaceResponse.From(view), Json.Options);
    }
}
