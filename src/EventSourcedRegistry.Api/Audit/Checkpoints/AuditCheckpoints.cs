using EventSourcedRegistry.Store;
using EventSourcedRegistry.Audit;
using JasperFx;
using Marten;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

public enum CheckpointResult { Created, Existing, NothingToSign, ChainBroken, ChainIncomplete }

public sealed record CheckpointOutcome(CheckpointResult Result, AuditCheckpoint? Checkpoint, ChainVerification? Verification);

/// <summary>
/// Signs the hash chain's head. Before signing, the chain is checked from the last checkpoint onwards (from the
/// start for the first), so each checkpoint vouches for a chain that was intact up to it when it was signed; a chain
/// that is broken, or that does not reach every event the store held (stopped, or still catching up after a short
/// wait), is never signed.
/// </summary>
public sealed class AuditCheckpoints(IDocumentStore store, CheckpointSigner signer, ILogger<AuditCheckpoints> logger)
{
    public async Task<CheckpointOutcome> CreateAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var verification = await ChainVerifier.CheckAsync(store, workspace, signer, full: false, ct: ct);
        if (verification.State != ChainState.Verified)
        {
            logger.LogWarning("Not signing an audit checkpoint over a {State} chain: {Problem}", verification.State, verification.Problem);
            return new CheckpointOutcome(verification.State == ChainState.Broken ? CheckpointResult.ChainBroken : CheckpointResult.ChainIncomplete,
                null, verification);
        }
        if (verification.HeadSequence == 0 || verification.Head is null) return new CheckpointOutcome(CheckpointResult.NothingToSign, null, verification);

        await using var session = store.LightweightSession(workspace.TenantId);
        if (await session.LoadAsync<AuditCheckpoint>(verification.HeadSequence, ct) is { } existing)
            return new CheckpointOutcome(CheckpointResult.Existing, existing, verification);

        var checkpoint = signer.Sign(verification.HeadSequence, Convert.FromHexString(verification.Head), DateTimeOffset.UtcNow);
        session.Insert(checkpoint);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (DocumentAlreadyExistsException)
        {
            // Another node (or the periodic signer) signed the same head a moment ago.
            await using var query = store.QuerySession(workspace.TenantId);
            return new CheckpointOutcome(CheckpointResult.Existing, await query.LoadAsync<AuditCheckpoint>(checkpoint.Id, ct), verification);
        }
        logger.LogInformation("Signed audit checkpoint at sequence {Sequence}: head {Head}, key {KeyId}", checkpoint.Id, checkpoint.Head, checkpoint.KeyId);
        return new CheckpointOutcome(CheckpointResult.Created, checkpoint, verification);
    }
}

/// <summary>Signs a checkpoint every <c>Registry:Audit:CheckpointInterval</c> when the chain has grown since the last one.</summary>
public sealed class AuditCheckpointService(AuditCheckpoints checkpoints, AuditOptions options, ILogger<AuditCheckpointService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.CheckpointInterval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(options.CheckpointInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // workspaces: the default workspace's chain until checkpoints are signed per workspace.
                await checkpoints.CreateAsync(WorkspaceId.Default, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Signing the periodic audit checkpoint failed; trying again in {Interval}", options.CheckpointInterval);
            }
        }
    }
}
