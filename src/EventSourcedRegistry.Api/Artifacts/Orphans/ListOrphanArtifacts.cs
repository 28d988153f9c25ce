using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Artifacts.Orphans;

public static class ListOrphanArtifactsEndpoint
{
    /// <summary>Stored artifacts that no model version references, oldest first.</summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.OrphanArtifactList>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/admin/artifacts/orphans", OperationId = "ListOrphanArtifacts")]
    public static async Task<IResult> Get(HttpContext http, IArtifactStore artifacts, WorkspaceStore documents)
    {
        var orphans = await OrphanArtifacts.Find(artifacts, documents, http.RequestAborted);
        // OrphanArtifact itself stays: the sweep's answer (DeletedOrphanArtifacts, no shared contract) names it in the OpenAPI document.
        return Results.Json(new Wire.OrphanArtifactList(orphans.Select(o => new Wire.OrphanArtifactInfo(o.Sha256, o.SizeBytes, o.StoredAt)).ToList(),
            orphans.Count, orphans.Sum(o => o.SizeBytes)), Json.Options);
    }
}
