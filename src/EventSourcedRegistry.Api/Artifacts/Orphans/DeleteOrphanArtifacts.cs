using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Artifacts;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Artifacts.Orphans;

public sealed record DeletedOrphanArtifacts(
    string OlderThan,
    IReadOnlyList<OrphanArtifact> Deleted,
    long DeletedBytes,
    int KeptWithinGracePeriod,
    int AbandonedUploadsDeleted);

public static class DeleteOrphanArtifactsEndpoint
{
    /// <summary>
    /// Deletes orphan artifacts stored (or uploaded again) longer ago than <c>olderThan</c> (default 24h), and
    /// the leftovers of uploads that never finished. The grace period is what keeps an upload whose version
    /// is about to be registered: uploads come first, registrations after.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<DeletedOrphanArtifacts>(StatusCodes.Status200OK)]
    [WolverineDelete("/api/v1/admin/artifacts/orphans", OperationId = "DeleteOrphanArtifacts")]
    public static async Task<IResult> Delete(HttpContext http, IArtifactStore artifacts, WorkspaceStore documents, ArtifactAccess access,
        ILoggerFactory loggers)
    {
        var ct = http.RequestAborted;
        var raw = http.Request.Query["olderThan"].ToString();
        var grace = OrphanArtifacts.DefaultGracePeriod;
        if (raw.Length > 0 && !OrphanArtifacts.TryParseDuration(raw, out grace))
            return Problems.Validation([("olderThan", "olderThan is a duration such as 30m, 24h, 7d or PT24H.")]);

        var cutoff = DateTimeOffset.UtcNow - grace;
        var orphans = await OrphanArtifacts.Find(artifacts, documents, ct);
        var candidates = orphans.Where(o => o.StoredAt < cutoff).ToList();
        // Read the references again right before deleting, so a version registered meanwhile keeps its bytes.
        var referenced = await OrphanArtifacts.ReferencedDigests(documents, ct);
        var deleted = new List<OrphanArtifact>();
        foreach (var orphan in candidates.Where(o => !referenced.Contains(o.Sha256)))
            if (await artifacts.DeleteAsync(orphan.Sha256, ct)) deleted.Add(orphan);
        // Whoever uploaded them no longer holds a claim to read them: the bytes are gone.
        await access.ForgetUploads(http.Workspace(), deleted.Select(o => o.Sha256).ToList(), ct);
        var abandoned = await artifacts.DeleteAbandonedUploadsAsync(cutoff, ct);

        if (deleted.Count > 0 || abandoned > 0)
            loggers.CreateLogger(ArtifactRoutes.LogCategory).LogInformation(
                "Deleted {Count} orphan artifacts ({Bytes} bytes) and {Abandoned} abandoned uploads older than {GracePeriod}",
                deleted.Count, deleted.Sum(o => o.SizeBytes), abandoned, grace);
        return Results.Json(new DeletedOrphanArtifacts(System.Xml.XmlConvert.ToString(grace), deleted, deleted.Sum(o => o.SizeBytes),
            orphans.Count - candidates.Count, abandoned), Json.Options);
    }
}
