using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Rebuild;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Admin;

/// <param name="Lag">Events stored beyond what the projection has processed: the workspace's last event's sequence minus <paramref name="Sequence"/>.</param>
public sealed record ProjectionState(string Name, string Lifecycle, long Sequence, long HighWaterMark, long Lag);

/// <param name="HighWaterMark">Every event of the workspace up to here is committed.</param>
/// <param name="LastEvent">The sequence of the workspace's last stored event (0 for none).</param>
public sealed record ProjectionsStatus(long HighWaterMark, long LastEvent, IReadOnlyList<ProjectionState> Projections, RebuildStatus? Rebuild);

public static class RebuildProjectionsEndpoint
{
    /// <summary>
    /// Starts rebuilding one projection (or all, when none is named) in the background, on some node of the cluster; the API
    /// keeps serving. 409 while another rebuild in the registry has not ended.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<RebuildStatus>(StatusCodes.Status202Accepted)]
    [ProducesProblems(StatusCodes.Status409Conflict)]
    [WolverinePost("/api/v1/admin/projections/rebuild", OperationId = "RebuildProjections")]
    public static async Task<IResult> Post(RebuildProjections? request, HttpContext http, ProjectionRebuilds rebuilds)
    {
        var known = rebuilds.Known;
        var name = request?.Projection;
        if (name is not null && !known.Contains(name, StringComparer.Ordinal))
            return Problems.Validation([("projection", $"'{name}' is not a projection. The projections are: {string.Join(", ", known)}.")]);

        var (started, refusal) = await rebuilds.StartAsync(http.Workspace(), name is null ? known : [name], http.RequestServices, http.RequestAborted);
        if (started is null) return Problems.Problem(StatusCodes.Status409Conflict, "A rebuild is running", refusal!);
        http.Response.Headers.Location = Location(started.Id);
        return Results.Json(started, Json.Options, statusCode: StatusCodes.Status202Accepted);
    }

    public static string Location(Guid id) => $"/api/v1/admin/projections/rebuilds/{id}";
}

public static class GetProjectionRebuildEndpoint
{
    /// <summary>One rebuild of the workspace and how far it got, from any node. 404 for an id the workspace does not have.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<RebuildStatus>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound)]
    [WolverineGet("/api/v1/admin/projections/rebuilds/{id}", OperationId = "GetProjectionRebuild")]
    public static async Task<IResult> Get(string id, HttpContext http, ProjectionRebuilds rebuilds)
    {
        if (!Guid.TryParse(id, out var job))
            return Problems.Validation([("id", "A rebuild's id is a GUID, as POST /api/v1/admin/projections/rebuild answered it.")]);
        return await rebuilds.FindAsync(http.Workspace(), job, http.RequestAborted) is { } status
            ? Results.Json(status, Json.Options)
            : Problems.Problem(StatusCodes.Status404NotFound, "Rebuild not found", "This workspace has no projection rebuild with that id.");
    }
}

public static class GetProjectionsEndpoint
{
    /// <summary>
    /// Every projection with how far it has processed and its lag behind the workspace's last event, and the workspace's latest
    /// rebuild (whichever node runs or ran it).
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<ProjectionsStatus>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/admin/projections", OperationId = "GetProjections")]
    public static async Task<IResult> Get(HttpContext http, ProjectionRebuilds rebuilds, WorkspaceStore store, NpgsqlDataSource data)
    {
        var ct = http.RequestAborted;
        var mark = await StorePosition.HighWaterMark(data, RegistryStore.Schema, store.Workspace, ct);
        var last = await StorePosition.LastEvent(data, RegistryStore.Schema, store.Workspace, ct);
        // The workspace's shards only (AuditLog:All:<workspace>): another workspace's progress is not this one's business.
        var suffix = ":" + store.Workspace.TenantId;
        var progress = (await store.Documents.Advanced.AllProjectionProgress(token: ct)).Where(p => p.ShardName.EndsWith(suffix, StringComparison.Ordinal)).ToList();
        // Inline views are written in the appending transaction: they hold every stored event.
        var states = InlineViewRebuilder.InlineViews.Select(v => new ProjectionState(v, "Inline", last, mark, 0)).ToList();
        foreach (var name in rebuilds.AsyncProjections)
        {
            var sequence = progress.Where(p => p.ShardName.StartsWith(name + ":", StringComparison.Ordinal) || p.ShardName == name)
                .Select(p => p.Sequence).DefaultIfEmpty(0).Min();
            // Counted from the last stored event, not the mark: the audit worker moves the mark as it reads, so a projection
            // catching up on a backlog would show no lag behind it.
            states.Add(new ProjectionState(name, "Async", sequence, mark, Math.Max(0, last - sequence)));
        }
        return Results.Json(new ProjectionsStatus(mark, last, states, await rebuilds.LatestAsync(store.Workspace, ct)), Json.Options);
    }
}
