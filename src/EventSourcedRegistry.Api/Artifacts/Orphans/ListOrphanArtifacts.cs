using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Artifacts.Orphans;

public sealed record OrphanArtifactList(IReadOnlyList<OrphanArtifact> Orphans, int Count, long TotalBytes);

public static class ListOrphanArtifactsEndpoint
{
    /// <summary>Stored artifacts that no model version references, oldest first.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.OrphanArtifactList>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/admin/artifacts/orphans", OperationId = "ListOrphanArtifacts")]
    public static async Task<IResult> Get(HttpContext http, IArtifactStore artifacts, WorkspaceStore documents)
    {
        var orphans = await OrphanArtifacts.Find(artifacts, documents, http.RequestAborted);
        return Results.Json(new OrphanArtifactList(orphans, orphans.Count, orphans.Sum(o => o.SizeBytes)), Json.Options);
    }
}
