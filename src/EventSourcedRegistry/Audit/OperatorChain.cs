using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Audit;

/// <summary>One link of the operator's chain: a workspace checkpoint's head, as linked.</summary>
public sealed record OperatorLink(long Position, long PreviousPosition, string Workspace, long Sequence, string Head, DateTimeOffset SignedAt, byte[] Hash);

/// <summary>
/// The registry-wide chain for the operator. Workspaces' sequences have no common order, so it chains what they do
/// share: the heads their checkpoints sign, in the order they were signed, kept in the platform tenant.
/// <code>
/// h_0 = 32 zero bytes
/// h_n = SHA-256(h_{n-1} ‖ JCS({"head": "&lt;64 hex&gt;", "sequence": n, "signedAt": "yyyy-MM-ddTHH:mm:ss.ffffffZ", "workspace": "&lt;slug&gt;"}))
/// </code>
/// A link is appended in the transaction that stores the checkpoint (under a lock, so two signers never both extend
/// the same head), so there is no checkpoint of this key without its link and no link without its checkpoint.
/// </summary>
public static class OperatorChain
{
    /// <summary>Serialises appends: each reads the head it extends under this transaction lock.</summary>
    private const string AppendLock = "select pg_advisory_xact_lock(hashtext('" + AuditTrail.OperatorChainTable + "'))";

    public static string Tenant => WorkspaceId.Platform.TenantId;

    /// <summary>The canonical record of one link (members in JCS order; every value is ASCII with nothing to escape but the slug, which is checked).</summary>
    public static byte[] Record(string workspace, long sequence, string head, DateTimeOffset signedAt)
    {
        var output = new ArrayBufferWriter<byte>(192);
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{{\"head\":\"{head}\",\"sequence\":{sequence},\"signedAt\":\"{ChainLink.FormatTimestamp(signedAt.UtcDateTime)}\",\"workspace\":");
        output.Write(System.Text.Encoding.ASCII.GetBytes(text));
        CanonicalJson.WriteString(workspace, output);
        output.Write("}"u8);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Next(ReadOnlySpan<byte> previous, string workspace, long sequence, string head, DateTimeOffset signedAt)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(previous);
        sha.AppendData(Record(workspace, sequence, head, signedAt));
        return sha.GetHashAndReset();
    }

    /// <summary>Links the checkpoint after the chain's head, inside <paramref name="transaction"/> (which also stores the checkpoint).</summary>
    public static async Task<OperatorLink> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AuditCheckpoint checkpoint,
        CancellationToken ct)
    {
        await using (var lockCommand = new NpgsqlCommand(AppendLock, connection, transaction))
            await lockCommand.ExecuteNonQueryAsync(ct);

        long position = 0;
        var previous = ChainLink.Genesis;
        await using (var head = new NpgsqlCommand(
                         $"select position, hash from {AuditTrail.OperatorChainTable} where tenant_id = $1 order by position desc limit 1", connection, transaction))
        {
            head.Parameters.Add(new NpgsqlParameter { Value = Tenant });
            await using var reader = await head.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                position = reader.GetInt64(0);
                previous = reader.GetFieldValue<byte[]>(1);
            }
        }

        var workspace = checkpoint.Workspace ?? WorkspaceId.Default.Slug;
        var link = new OperatorLink(position + 1, position, workspace, checkpoint.Id, checkpoint.Head, checkpoint.SignedAt,
            Next(previous, workspace, checkpoint.Id, checkpoint.Head, checkpoint.SignedAt));
        await using var insert = new NpgsqlCommand(
            $"""
             insert into {AuditTrail.OperatorChainTable} (tenant_id, position, prev_position, workspace, sequence, head, signed_at, hash)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             """, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter { Value = Tenant });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.Position });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.PreviousPosition });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.Workspace });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.Sequence });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.Head });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.SignedAt.UtcDateTime });
        insert.Parameters.Add(new NpgsqlParameter { Value = link.Hash });
        await insert.ExecuteNonQueryAsync(ct);
        return link;
    }

    /// <summary>
    /// Recomputes the chain from its first link and checks that each link names a checkpoint its workspace still holds,
    /// with the same head and time and a signature that verifies as that workspace's (for checkpoints of
    /// <paramref name="signer"/>'s key). It does not recompute the workspaces' own chains: the operator's verify runs
    /// each workspace's check beside it.
    /// </summary>
    public static async Task<OperatorChainVerification> VerifyAsync(Marten.IDocumentStore store, CheckpointSigner signer, CancellationToken ct)
    {
        await using var connection = store.Storage.Database.CreateConnection(Marten.Storage.ConnectionUsage.Read);
        await connection.OpenAsync(ct);
        var checkpoints = new Dictionary<string, Dictionary<long, AuditCheckpoint>>(StringComparer.Ordinal);
        var previous = ChainLink.Genesis;
        long previousPosition = 0, links = 0;
        OperatorChainVerification Broken(long position, string problem) =>
            new(false, links, Convert.ToHexStringLower(previous), position, problem);

        await foreach (var link in ReadAsync(connection, ct))
        {
            if (link.Position != previousPosition + 1 || link.PreviousPosition != previousPosition)
                return Broken(link.Position, $"The link at position {link.Position} does not extend the link at {previousPosition}: links were removed or inserted.");
            var recomputed = Next(previous, link.Workspace, link.Sequence, link.Head, link.SignedAt);
            if (!recomputed.AsSpan().SequenceEqual(link.Hash))
                return Broken(link.Position, $"The link at position {link.Position} differs from what was chained: its workspace, sequence, head, time or hash changed.");
            if (WorkspaceId.FromTenantId(link.Workspace) is not { } workspace)
                return Broken(link.Position, $"The link at position {link.Position} names no workspace.");
            if (!checkpoints.TryGetValue(link.Workspace, out var held))
            {
                await using var session = store.QuerySession(workspace.TenantId);
                held = (await Marten.QueryableExtensions.ToListAsync(session.Query<AuditCheckpoint>(), ct)).ToDictionary(c => c.Id);
                checkpoints[link.Workspace] = held;
            }
            if (!held.TryGetValue(link.Sequence, out var checkpoint) || checkpoint.Head != link.Head || checkpoint.SignedAt != link.SignedAt)
                return Broken(link.Position,
                    $"The link at position {link.Position} names a checkpoint of workspace {link.Workspace} at sequence {link.Sequence} that the workspace no longer holds as linked.");
            if (checkpoint.KeyId == signer.KeyId && !signer.Verify(checkpoint, workspace))
                return Broken(link.Position, $"The checkpoint of workspace {link.Workspace} at sequence {link.Sequence} carries an invalid signature for that workspace.");
            previous = recomputed;
            previousPosition = link.Position;
            links++;
        }
        return new OperatorChainVerification(true, links, links == 0 ? null : Convert.ToHexStringLower(previous), null, null);
    }

    /// <summary>Every link, in order (streamed).</summary>
    public static async IAsyncEnumerable<OperatorLink> ReadAsync(NpgsqlConnection connection,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select position, prev_position, workspace, sequence, head, signed_at, hash from {AuditTrail.OperatorChainTable} where tenant_id = $1 order by position",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Tenant });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            yield return new OperatorLink(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(5), TimeSpan.Zero), reader.GetFieldValue<byte[]>(6));
    }
}

/// <summary>What a check of the operator's chain found: every link recomputes and names a checkpoint its workspace holds, or where not.</summary>
public sealed record OperatorChainVerification(bool Verified, long Links, string? Head, long? FirstBrokenPosition, string? Problem);

/// <summary>The operator's verdict: the operator's chain, and every workspace's own chain (the platform's included).</summary>
public sealed record OperatorVerification(bool Verified, OperatorChainVerification OperatorChain,
    IReadOnlyList<(WorkspaceId Workspace, ChainVerification Chain)> Workspaces)
{
    /// <summary>
    /// Each workspace's check (incremental from its newest checkpoint, or <paramref name="full"/>) and the operator's
    /// chain from its first link. Verified only when all of them are.
    /// </summary>
    public static async Task<OperatorVerification> CheckAsync(Marten.IDocumentStore store, CheckpointSigner signer, bool full, CancellationToken ct)
    {
        var workspaces = new List<(WorkspaceId, ChainVerification)>();
        foreach (var workspace in await AuditWorkspaces.AllAsync(store, ct))
            workspaces.Add((workspace, await ChainVerifier.CheckAsync(store, workspace, signer, full, ct: ct)));
        var chain = await Audit.OperatorChain.VerifyAsync(store, signer, ct);
        return new OperatorVerification(chain.Verified && workspaces.All(w => w.Item2.Verified), chain, workspaces);
    }
}
