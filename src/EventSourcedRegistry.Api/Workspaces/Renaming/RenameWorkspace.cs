using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using EventSourcedRegistry.Workspaces;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Workspaces.Renaming;

public static class RenameWorkspaceEndpoint
{
    /// <summary>Changes the display name only: the slug, and so every address and all data, stay. The same name again changes nothing.</summary>
    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.WorkspaceInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost("/api/v1/workspaces/{ws}/rename", OperationId = "RenameWorkspace")]
    public static async Task<IResult> Post(string ws, RenameWorkspace? request, HttpContext http, WorkspaceDirectory directory)
    {
        if (!WorkspaceId.TryParse(ws, out var workspace)) return WorkspaceRules.NotFound(ws);
        if (request is null) return Problems.BodyRequired("{\"displayName\", \"reason\"?}");
        var errors = new List<(string, string)>();
        if (WorkspaceRules.CheckDisplayName(request.DisplayName) is { } name) errors.Add(("displayName", name));
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } reason) errors.Add(("reason", reason));
        if (errors.Count > 0) return Problems.Validation(errors);
        if (workspace == WorkspaceId.Default) return WorkspaceRules.DefaultIsFixed();

        var outcome = await WorkspaceChanges.Append(http, directory, workspace, request.Reason, current =>
            current is null ? (null, WorkspaceRules.NotFound(ws))
            : current.DisplayName == request.DisplayName ? (null, null)
            : current.Archived ? (null, WorkspaceRules.Archived(workspace))
            : (new WorkspaceRenamed(workspace.Slug, request.DisplayName!), null));
        return outcome.Refusal ?? Results.Json(WorkspaceResponse.From(outcome.View!), Json.Options);
    }
}
