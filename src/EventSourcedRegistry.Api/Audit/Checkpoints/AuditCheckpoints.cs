using EventSourcedRegistry.Audit;
using JasperFx;
using Marten;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

public enum CheckpointResult { Created, Existing, NothingToSign, ChainBroken }

public sealed record CheckpointOutcome(CheckpointResult Result, AuditCheckpoint? Checkpoint, ChainVerification? Verification);

/// <summary>
/// Signs the hash chain's head. Before signing, the chain is verified from the last checkpoint onwards (from the
/// start for the first), so each checkpoint vouches for a chain that was intact up to it when it was signed.
/// </summary>
public sealed class AuditCheckpoints(IDocumentStore store, CheckpointSigner signer, ILogger<AuditCheckpoints> logger)
{
    public async Task<CheckpointOutcome> CreateAsync(CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var latest = await session.Query<AuditCheckpoint>().OrderByDescending(x => x.Id).FirstOrDefaultAsync(ct);

        var verification = await ChainVerifier.VerifyAsync(store, [], signer,
            afterSequence: latest?.Id ?? 0, afterHash: latest is null ? null : Convert.FromHexString(latest.Head), ct: ct);
        if (!verification.Verified || (latest is not null && verification.HeadSequence < latest.Id))
        {
            logger.LogWarning("Not signing an audit checkpoint: {Problem}", verification.Problem ?? "the chain ends before the last checkpoint");
            return new CheckpointOutcome(CheckpointResult.ChainBroken, null, verification);
        }
        if (verification.HeadSequence == 0 || verification.Head is null) return new CheckpointOutcome(CheckpointResult.NothingToSign, null, verification);
        if (latest is not null && latest.Id == verification.HeadSequence) return new CheckpointOutcome(CheckpointResult.Existing, latest, verification);

        var checkpoint = signer.Sign(verification.HeadSequence, Convert.FromHexString(verification.Head), DateTimeOffset.UtcNow);
        session.Insert(checkpoint);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (DocumentAlreadyExistsException)
        {
            // Another node (or the periodic signer) signed the same head a moment ago.
            await using var query = store.QuerySession();
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
                await checkpoints.CreateAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Signing the periodic audit checkpoint failed; trying again in {Interval}", options.CheckpointInterval);
            }
        }
    }
}
