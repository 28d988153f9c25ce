using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Artifacts.Uploading;

/// <summary>
/// The most bytes one workspace's artifacts may take: its policy's <c>artifactQuotaBytes</c>, or <c>Registry:Artifacts:QuotaBytes</c>
/// (see <see cref="Settings.EffectiveLimits"/>). Before an upload streams, it
/// reserves room in its workspace: its Content-Length, or when that is unknown all the room left (at most the upload size
/// limit). The workspace's store's own listing says what is held (so nothing a crash or an operator changed can drift
/// from a count of our own), and reservations live in a table every node sees, keyed by workspace; one PostgreSQL
/// advisory lock per workspace makes check and reserve atomic across nodes. Every upload is counted as new bytes, even
/// when the same bytes are stored already: room that depended on that would tell the caller they are. A reservation left
/// by a crashed node lapses after a day. Another workspace's bytes and reservations never count, and are never read.
/// </summary>
public sealed class ArtifactQuota(NpgsqlDataSource data, ArtifactStores stores, ArtifactSettings settings)
{
    public const string Table = RegistryStore.Schema + ".artifact_quota_reservations";
    private static readonly TimeSpan Lapse = TimeSpan.FromDays(1);
    // Any fixed number; only this class takes it. Mixed with the workspace's hash: workspaces never wait for each other.
    private const long LockKey = 0x6573725f71756f74; // "esr_quot"

    private volatile bool _tableReady;

    public sealed record Reservation(WorkspaceId Workspace, Guid Id, long Bytes);

    /// <summary>Room under <paramref name="quota"/> in the workspace for an upload of <paramref name="contentLength"/> bytes (unknown: null); null when there is not enough.</summary>
    public async Task<Reservation?> Reserve(WorkspaceId workspace, long quota, long? contentLength, CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await Execute(connection, transaction, $"select pg_advisory_xact_lock({LockKey} # hashtextextended($1, 0))", workspace, ct);
        // Under a lock, so two nodes' first uploads do not both create it.
        if (!_tableReady)
        {
            await Execute(connection, transaction, $"select pg_advisory_xact_lock({LockKey})", null, ct);
            await Execute(connection, transaction, CreateTableSql, null, ct);
        }
        await Execute(connection, transaction, $"delete from {Table} where tenant_id = $1 and expires_at < now()", workspace, ct);
        long reserved;
        await using (var sum = new NpgsqlCommand($"select coalesce(sum(size_bytes), 0)::bigint from {Table} where tenant_id = $1", connection, transaction))
        {
            sum.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
            reserved = (long)(await sum.ExecuteScalarAsync(ct))!;
        }
        long stored = 0;
        await foreach (var artifact in stores.For(workspace).ListAsync(ct)) stored += artifact.SizeBytes;

        var room = quota - stored - reserved;
        var wanted = contentLength ?? Math.Min(room, settings.MaxUploadBytes);
        if (wanted > room || wanted <= 0 && contentLength is null) return null;

        var reservation = new Reservation(workspace, Guid.NewGuid(), wanted);
        await using (var insert = new NpgsqlCommand(
                         $"insert into {Table} (tenant_id, id, size_bytes, expires_at) values ($1, $2, $3, now() + $4)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
            insert.Parameters.Add(new NpgsqlParameter { Value = reservation.Id });
            insert.Parameters.Add(new NpgsqlParameter { Value = reservation.Bytes });
            insert.Parameters.Add(new NpgsqlParameter { Value = Lapse });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        _tableReady = true;
        return reservation;
    }

    /// <summary>Gives the room back once the upload is stored or refused (stored bytes count through the store's listing).</summary>
    public async Task Release(Reservation reservation)
    {
        await using var command = data.CreateCommand($"delete from {Table} where tenant_id = $1 and id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = reservation.Workspace.TenantId });
        command.Parameters.Add(new NpgsqlParameter { Value = reservation.Id });
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private static readonly string CreateTableSql = $"""
        create table if not exists {Table} (
            tenant_id  text not null,
            id         uuid not null,
            size_bytes bigint not null,
            expires_at timestamptz not null,
            primary key (tenant_id, id)
        )
        """;

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, WorkspaceId? workspace,
        CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        if (workspace is not null) command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        await command.ExecuteNonQueryAsync(ct);
    }
}
