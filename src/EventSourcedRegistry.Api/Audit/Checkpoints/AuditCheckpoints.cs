using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Store;
using JasperFx;
using Marten;
using Marten.Storage;

namespace EventSourcedRegistry.Api.Audit.Checkpoints;

public enum CheckpointResult { Created, Existing, NothingToSign, ChainBroken, ChainIncomplete }

public sealed record CheckpointOutcome(CheckpointResult Result, AuditCheckpoint? Checkpoint, ChainVerification? Verification);

/// <summary>
/// Signs a workspace's hash chain head. Before signing, the chain is checked from the workspace's last checkpoint
/// onwards (from the start for the first), so each checkpoint vouches for a chain that was intact up to it when it was
/// signed; a chain that is broken, or that does not reach every event the workspace held (stopped, or still catching up
/// after a short wait), is never signed. The checkpoint names its workspace in the signed text, and is linked into the
/// operator's chain in the same transaction that stores it.
/// </summary>
public sealed class AuditCheckpoints(IDocumentStore store, CheckpointSigner signer, ILogger<AuditCheckpoints> logger)
{
    public async Task<CheckpointOutcome> CreateAsync(WorkspaceId workspace, CancellationToken ct)
    {
        var verification = await ChainVerifier.CheckAsync(store, workspace, signer, full: false, ct: ct);
        if (verification.State != ChainState.Verified)
        {
            logger.LogWarning("Not signing an audit checkpoint of workspace {Workspace} over a {State} chain: {Problem}",
                workspace, verification.State, verification.Problem);
            return new CheckpointOutcome(verification.State == ChainState.Broken ? CheckpointResult.ChainBroken : CheckpointResult.ChainIncomplete,
                null, verification);
        }
        if (verification.HeadSequence == 0 || verification.Head is null) return new CheckpointOutcome(CheckpointResult.NothingToSign, null, verification);

        await using (var query = store.QuerySession(workspace.TenantId))
        {
            if (await query.LoadAsync<AuditCheckpoint>(verification.HeadSequence, ct) is { } existing)
                return new CheckpointOutcome(CheckpointResult.Existing, existing, verification);
        }

        var checkpoint = signer.Sign(workspace, verification.HeadSequence, Convert.FromHexString(verification.Head), DateTimeOffset.UtcNow);
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        try
        {
            // The checkpoint and its operator link commit together, or neither does.
            var link = await OperatorChain.AppendAsync(connection, transaction, checkpoint, ct);
            var options = Marten.Services.SessionOptions.ForTransaction(transaction);
            options.TenantId = workspace.TenantId;
            await using (var session = store.LightweightSession(options))
            {
                session.Insert(checkpoint);
                await session.SaveChangesAsync(ct);
            }
            await transaction.CommitAsync(ct);
            logger.LogInformation("Signed audit checkpoint of workspace {Workspace} at sequence {Sequence}: head {Head}, key {KeyId}; operator link {Position}",
                workspace, checkpoint.Id, checkpoint.Head, checkpoint.KeyId, link.Position);
        }
        catch (Exception ex) when (ex is DocumentAlreadyExistsException || ex is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another node (or the periodic signer) signed the same head a moment ago; nothing of this attempt was kept. The
            // operator's link comes first in the transaction and waits on the other signer's lock, so the loser usually
            // meets the operator chain's unique index (one link per workspace checkpoint), not the checkpoint's own key.
            await transaction.RollbackAsync(CancellationToken.None);
            await using var query = store.QuerySession(workspace.TenantId);
            return new CheckpointOutcome(CheckpointResult.Existing, await query.LoadAsync<AuditCheckpoint>(checkpoint.Id, ct), verification);
        }
        return new CheckpointOutcome(CheckpointResult.Created, checkpoint, verification);
    }
}
