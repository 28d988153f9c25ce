using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using EventSourcedRegistry.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Workspaces.Archiving;

public static class ArchiveWorkspaceEndpoint
{
    /// <summary>
    /// From now on the workspace refuses every command (409, on every node: commands read the directory fresh), and its
    /// history stays readable to its members. For good: there is no restore, and the slug is never reused. Archiving an
    /// archived workspace changes nothing.
    /// </summary>
    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.WorkspaceInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost("/api/v1/workspaces/{ws}/archive", OperationId = "ArchiveWorkspace")]
    public static async Task<IResult> Post(string ws, ArchiveWorkspace? request, HttpContext http, WorkspaceDirectory directory)
    {
        if (!WorkspaceId.TryParse(ws, out var workspace)) return WorkspaceRules.NotFound(ws);
        request ??= new ArchiveWorkspace(null);
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } reason) return Problems.Validation([("reason", reason)]);
        if (workspace == WorkspaceId.Default) return WorkspaceRules.DefaultIsFixed();

        var outcome = await WorkspaceChanges.Append(http, directory, workspace, request.Reason, current =>
            current is null ? (null, WorkspaceRules.NotFound(ws))
            : current.Archived ? (null, null)
            : (new WorkspaceArchived(workspace.Slug), null));
        return outcome.Refusal ?? Results.Json(WorkspaceResponse.From(outcome.View!), Json.Options);
    }
}
