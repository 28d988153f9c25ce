using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Workspaces;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Workspaces.Creating;

public static class CreateWorkspaceEndpoint
{
    public static IEnumerable<(string Field, string Error)> Check(CreateWorkspace request)
    {
        if (WorkspaceRules.CheckSlug(request.Slug) is { } slug) yield return ("slug", slug);
        if (WorkspaceRules.CheckDisplayName(request.DisplayName) is { } name) yield return ("displayName", name);
    }

    /// <summary>
    /// Creates the workspace's partitions, then its directory entry (<see cref="WorkspaceCreated"/>): so the directory
    /// never names a workspace whose partitions are missing, and a crash between the two leaves only empty partitions,
    /// which the retry finds and keeps. A retry of the same creation (same slug and display name, same caller) answers
    /// 200 with the workspace and appends nothing; any other creation of a taken slug (<c>default</c> included) is 409.
    /// </summary>
    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.WorkspaceInfo>(StatusCodes.Status201Created)]
    [ProducesResponseType<Wire.WorkspaceInfo>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost("/api/v1/workspaces", OperationId = "CreateWorkspace")]
    public static async Task<IResult> Post(CreateWorkspace? request, HttpContext http, WorkspaceDirectory directory, IDocumentStore store)
    {
        if (request is null) return Problems.BodyRequired("{\"slug\", \"displayName\"}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var workspace = WorkspaceId.Parse(request.Slug!);
        var displayName = request.DisplayName!;
        var actor = AccessClaims.ActorOf(http.User);
        bool IsRetry(WorkspaceView view) => view.DisplayName == displayName && view.CreatedBy == actor && !view.Archived;

        // Taken slugs are refused before anything is created for them.
        if (await directory.FindAsync(workspace, fresh: true, ct) is { } taken && !IsRetry(taken)) return Taken(workspace);

        await WorkspacePartitions.AddAsync(store, workspace, ct);
        var outcome = await WorkspaceChanges.Append(http, directory, workspace, null, current =>
            current is null ? (new WorkspaceCreated(workspace.Slug, displayName), null)
            : IsRetry(current) ? (null, null)
            : (null, Taken(workspace)));
        if (outcome.Refusal is { } refused) return refused;

        var response = WorkspaceResponse.From(outcome.View!);
        http.Response.Headers.Location = response.Href;
        return Results.Json(response, Json.Options, statusCode: outcome.Changed ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static IResult Taken(WorkspaceId workspace) =>
        Problems.Problem(StatusCodes.Status409Conflict, "Slug taken",
            $"A workspace '{workspace}' already exists (slugs are never reused, archived workspaces' included).");
}
