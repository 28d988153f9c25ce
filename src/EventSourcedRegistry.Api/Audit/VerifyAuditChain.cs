using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Audit;
using Marten;
using Marten.Storage;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit;

/// <summary>The verdict on the hash chain, and how far the chain reaches.</summary>
/// <param name="Verified">True when every chained event recomputes to its stored link and every signed checkpoint matches.</param>
/// <param name="Events">Events whose link was recomputed and matched.</param>
/// <param name="Head">The chain's head hash (hex) at <paramref name="HeadSequence"/>.</param>
/// <param name="FirstBrokenSequence">The first sequence where store and chain disagree (changed, deleted or inserted event).</param>
/// <param name="Problem">What is wrong there.</param>
/// <param name="Checkpoints">Signed checkpoints that were compared with the recomputed chain.</param>
/// <param name="HighWaterMark">The store's high-water mark: events after <paramref name="HeadSequence"/> and up to it are not chained yet.</param>
public sealed record VerifyResponse(
    bool Verified,
    long Events,
    string? Head,
    long HeadSequence,
    long? FirstBrokenSequence,
    string? Problem,
    int Checkpoints,
    long HighWaterMark);

public static class VerifyAuditChainEndpoint
{
    /// <summary>Recomputes the hash chain from the raw events (streaming) and compares it with the stored links and the signed checkpoints.</summary>
    [WolverineGet("/api/v1/audit/verify", OperationId = "VerifyAuditChain")]
    public static async Task<IResult> Get(HttpContext http, IDocumentStore store, CheckpointSigner signer)
    {
        var ct = http.RequestAborted;
        IReadOnlyList<AuditCheckpoint> checkpoints;
        await using (var session = store.QuerySession())
        {
            checkpoints = await session.Query<AuditCheckpoint>().OrderBy(x => x.Id).ToListAsync(ct);
        }

        var result = await ChainVerifier.VerifyAsync(store, checkpoints, signer, ct: ct);

        await using var connection = store.Storage.Database.CreateConnection(ConnectionUsage.Read);
        await connection.OpenAsync(ct);
        var progress = await AuditProgress.ReadAsync(connection, ct);
        return Results.Json(new VerifyResponse(result.Verified, result.Events, result.Head, result.HeadSequence,
            result.FirstBrokenSequence, result.Problem, result.Checkpoints, progress.HighWaterMark), Json.Options);
    }
}
