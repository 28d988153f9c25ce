using Microsoft.AspNetCore.Authorization;
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
    /// <summary>
    /// Recomputes the hash chain from the raw events (streaming) and compares it with the stored links and the signed
    /// checkpoints. <c>sequence</c> and <c>head</c> add a checkpoint kept outside the registry to the comparison.
    /// </summary>
    [Authorize(Policy = Policies.Audit)]
    [WolverineGet("/api/v1/audit/verify", OperationId = "VerifyAuditChain")]
    public static async Task<IResult> Get(HttpContext http, IDocumentStore store, CheckpointSigner signer)
    {
        var ct = http.RequestAborted;
        var external = External(http.Request.Query["sequence"].ToString(), http.Request.Query["head"].ToString(), out var problem);
        if (problem is not null) return problem;

        List<AuditCheckpoint> checkpoints;
        await using (var session = store.QuerySession())
        {
            checkpoints = (await session.Query<AuditCheckpoint>().OrderBy(x => x.Id).ToListAsync(ct)).ToList();
        }
        // A stored checkpoint at the same sequence is compared too: both must match the recomputed chain.
        if (external is not null) checkpoints.Add(external);

        var result = await ChainVerifier.VerifyAsync(store, checkpoints, signer, ct: ct);

        await using var connection = store.Storage.Database.CreateConnection(ConnectionUsage.Read);
        await connection.OpenAsync(ct);
        var progress = await AuditProgress.ReadAsync(connection, ct);
        return Results.Json(new VerifyResponse(result.Verified, result.Events, result.Head, result.HeadSequence,
            result.FirstBrokenSequence, result.Problem, result.Checkpoints, progress.HighWaterMark), Json.Options);
    }

    /// <summary>An auditor's own copy of a checkpoint: its signature they check with openssl; here only its head is compared.</summary>
    private static AuditCheckpoint? External(string sequence, string head, out IResult? problem)
    {
        problem = null;
        if (sequence.Length == 0 && head.Length == 0) return null;
        var errors = new List<(string, string)>();
        if (!long.TryParse(sequence, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var at) || at < 1)
            errors.Add(("sequence", "sequence is the checkpoint's sequence, a whole number from 1 (give it together with head)."));
        if (head.Length != 64 || !head.All(char.IsAsciiHexDigit))
            errors.Add(("head", "head is the checkpoint's head hash, 64 hex digits (give it together with sequence)."));
        if (errors.Count > 0)
        {
            problem = Problems.Validation(errors);
            return null;
        }
        return new AuditCheckpoint { Id = at, Head = head.ToLowerInvariant(), SignedAt = DateTimeOffset.MinValue, KeyId = "external" };
    }
}
