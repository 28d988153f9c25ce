using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Audit;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Audit;

public static class VerifyOperatorChainEndpoint
{
    public const string Path = "/api/v1/platform/audit/verify";

    /// <summary>
    /// For the platform's administrator: every workspace's chain checked as its own <c>/audit/verify</c> would
    /// (incremental by default, <c>full=true</c> from each first link), and the operator's chain over the workspaces'
    /// checkpoint heads recomputed from its first link, each link matched with the checkpoint its workspace holds.
    /// </summary>
    [Authorize(Policy = Policies.PlatformAdmin)]
    [ProducesResponseType<Wire.OperatorVerification>(StatusCodes.Status200OK)]
    [WolverineGet(Path, OperationId = "VerifyOperatorChain")]
    public static async Task<IResult> Get(HttpContext http, IDocumentStore store, CheckpointSigner signer)
    {
        var fullText = http.Request.Query["full"].ToString();
        var full = false;
        if (fullText.Length > 0 && !bool.TryParse(fullText, out full))
            return Problems.Validation([("full", "full is true (recompute every chain from its first link) or false (from each workspace's newest signed checkpoint, the default).")]);

        var verdict = await OperatorVerification.CheckAsync(store, signer, full, http.RequestAborted);
        var chain = verdict.OperatorChain;
        return Results.Json(new Wire.OperatorVerification(verdict.Verified, full ? "full" : "incremental",
            new Wire.OperatorChainVerification(chain.Verified, chain.Links, chain.Head, chain.FirstBrokenPosition, chain.Problem),
            verdict.Workspaces.Select(w => new Wire.WorkspaceChainVerification(w.Workspace.Slug, w.Chain.Verified, w.Chain.State.ToString().ToLowerInvariant(),
                w.Chain.Full ? "full" : "incremental", w.Chain.FromSequence, w.Chain.Events, w.Chain.Head, w.Chain.HeadSequence,
                w.Chain.FirstBrokenSequence, w.Chain.FirstUnchainedSequence, w.Chain.Problem, w.Chain.Checkpoints, w.Chain.StoreHeadSequence)).ToList()),
            Json.Options);
    }
}
