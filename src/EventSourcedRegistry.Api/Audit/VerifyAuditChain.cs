using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Contracts;
using Marten;
using Marten.Storage;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit;

/// <summary>The verdict on a workspace's hash chain, what the check covered, and how far the chain reaches (in the workspace's own sequences): the shared contract <see cref="Wire.ChainVerification"/>.</summary>
/// <remarks>
/// <para><c>verified</c>: True only when <c>state</c> is <c>verified</c>.</para>
/// <para><c>state</c>: <c>verified</c>: every event the store held when the check began is chained, and every link checked
/// recomputes; <c>incomplete</c>: the links checked recompute but the chain stops short of the store (see
/// <c>firstUnchainedSequence</c>); <c>broken</c>: store and chain disagree at <c>firstBrokenSequence</c>.</para>
/// <para><c>mode</c>: <c>incremental</c> (from the newest signed checkpoint, the default) or <c>full</c> (from the first link).</para>
/// <para><c>fromSequence</c>: Links after this sequence were recomputed: the starting checkpoint's sequence, 0 for a full check.
/// An incremental check does not see edits to events at or before it.</para>
/// <para><c>events</c>: Links recomputed and matched by this check (after <c>fromSequence</c>).</para>
/// <para><c>head</c>: The chain's head hash (hex) at <c>headSequence</c>: the check covers the chain up to it.</para>
/// <para><c>firstBrokenSequence</c>: The first sequence where store and chain disagree (changed, deleted or inserted event).</para>
/// <para><c>firstUnchainedSequence</c>: When incomplete: the first event in the store the chain does not reach.</para>
/// <para><c>problem</c>: What is wrong there, or why the chain stops.</para>
/// <para><c>checkpoints</c>: Signed checkpoints that were checked against the chain (the starting one included).</para>
/// <para><c>storeHeadSequence</c>: The highest event sequence in the store when the check began.</para>
/// <para><c>highWaterMark</c>: The async daemon's high-water mark.</para>
/// </remarks>
public static class VerifyResponse
{
    public static Wire.ChainVerification From(ChainVerification v, long highWaterMark) => new(v.Verified, v.Events, v.Head, v.HeadSequence,
        v.FirstBrokenSequence, v.Problem, v.Checkpoints, highWaterMark, v.State.ToString().ToLowerInvariant(), v.Full ? "full" : "incremental",
        v.FromSequence, v.FirstUnchainedSequence, v.StoreHeadSequence);
}

public static class VerifyAuditChainEndpoint
{
    /// <summary>
    /// Checks the request's workspace's hash chain against its raw events (streaming; nothing of another workspace is
    /// read): by default incrementally from the newest checkpoint of the workspace
    /// signed with the registry's key (its signature and the stored link it signed are checked, then every later link
    /// is recomputed); <c>full=true</c> recomputes from the first link. <c>sequence</c> and <c>head</c> add a checkpoint
    /// kept outside the registry to the comparison (an incremental check then starts below it).
    /// </summary>
    [Authorize(Policy = Policies.Audit)]
    [ProducesResponseType<Wire.ChainVerification>(StatusCodes.Status200OK)]
    [WolverineGet("/api/v1/audit/verify", OperationId = "VerifyAuditChain")]
    public static async Task<IResult> Get(HttpContext http, WorkspaceStore workspace, CheckpointSigner signer)
    {
        var ct = http.RequestAborted;
        var errors = new List<(string, string)>();
        var external = External(http.Request.Query["sequence"].ToString(), http.Request.Query["head"].ToString(), errors);
        var fullText = http.Request.Query["full"].ToString();
        var full = false;
        if (fullText.Length > 0 && !bool.TryParse(fullText, out full))
            errors.Add(("full", "full is true (recompute the chain from its first link) or false (from the newest signed checkpoint, the default)."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var result = await ChainVerifier.CheckAsync(workspace.Documents, workspace.Workspace, signer, full, external, ct: ct);

        await using var connection = workspace.Documents.Storage.Database.CreateConnection(ConnectionUsage.Read);
        await connection.OpenAsync(ct);
        var progress = await AuditProgress.ReadAsync(connection, workspace.Workspace, ct);
        return Results.Json(VerifyResponse.From(result, progress.HighWaterMark), Json.Options);
    }

    /// <summary>An auditor's own copy of a checkpoint: its signature they check with openssl; here only its head is compared.</summary>
    private static AuditCheckpoint? External(string sequence, string head, List<(string, string)> errors)
    {
        if (sequence.Length == 0 && head.Length == 0) return null;
        var before = errors.Count;
        if (!long.TryParse(sequence, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var at) || at < 1)
            errors.Add(("sequence", "sequence is the checkpoint's sequence, a whole number from 1 (give it together with head)."));
        if (!Sha256Digest.TryParse(head, out var canonical, out var problem))
            errors.Add(("head", $"head is the checkpoint's head hash (give it together with sequence): {problem} Give {Sha256Digest.AcceptedForms}."));
        return errors.Count > before ? null
            : new AuditCheckpoint { Id = at, Head = canonical, SignedAt = DateTimeOffset.MinValue, KeyId = "external" };
    }
}
