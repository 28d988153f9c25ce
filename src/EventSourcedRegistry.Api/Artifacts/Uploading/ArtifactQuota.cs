using EventSourcedRegistry.Artifacts;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Artifacts.Uploading;

/// <summary>
/// <c>Registry:Artifacts:QuotaBytes</c>: the most bytes the artifact store may hold. Before an upload streams, it
/// reserves room: its Content-Length, or when that is unknown all the room left (at most the upload size limit). The
/// store's own listing says what is held (so nothing a crash or an operator changed can drift from a count of our
/// own), and reservations live in a table every node sees; one PostgreSQL advisory lock makes check and reserve
/// atomic across nodes. Every upload is counted as new bytes, even when the same bytes are stored already: room that
/// depended on that would tell the caller they are. A reservation left by a crashed node lapses after a day.
/// </summary>
public sealed class ArtifactQuota(NpgsqlDataSource data, IArtifactStore store, ArtifactSettings settings)
{
    public const string Table = RegistryStore.Schema + ".artifact_quota_reservations";
    private static readonly TimeSpan Lapse = TimeSpan.FromDays(1);
    // Any fixed number; only this class takes it.
    private const long LockKey = 0x6573725f71756f74; // "esr_quot"

    private volatile bool _tableReady;

    public sealed record Reservation(Guid Id, long Bytes);

    public bool Enabled => settings.QuotaBytes is not null;

    /// <summary>Room for an upload of <paramref name="contentLength"/> bytes (unknown: null); null when there is not enough.</summary>
    public async Task<Reservation?> Reserve(long? contentLength, CancellationToken ct)
    {
        var quota = settings.QuotaBytes ?? throw new InvalidOperationException("No artifact quota is configured.");
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await Execute(connection, transaction, $"select pg_advisory_xact_lock({LockKey})", ct);
        // Under the lock, so two nodes' first uploads do not both create it.
        if (!_tableReady) await Execute(connection, transaction, CreateTableSql, ct);
        await Execute(connection, transaction, $"delete from {Table} where expires_at < now()", ct);
        long reserved;
        await using (var sum = new NpgsqlCommand($"select coalesce(sum(size_bytes), 0)::bigint from {Table}", connection, transaction))
            reserved = (long)(await sum.ExecuteScalarAsync(ct))!;
        long stored = 0;
        await foreach (var artifact in store.ListAsync(ct)) stored += artifact.SizeBytes;

        var room = quota - stored - reserved;
        var wanted = contentLength ?? Math.Min(room, settings.MaxUploadBytes);
        if (wanted > room || wanted <= 0 && contentLength is null) return null;

        var reservation = new Reservation(Guid.NewGuid(), wanted);
        await using (var insert = new NpgsqlCommand(
                         $"insert into {Table} (id, size_bytes, expires_at) values ($1, $2, now() + $3)", connection, transaction))
        {
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
        await using var command = data.CreateCommand($"delete from {Table} where id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = reservation.Id });
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private static readonly string CreateTableSql = $"""
        create table if not exists {Table} (
            id         uuid primary key,
            size_bytes bigint not null,
            expires_at timestamptz not null
        )
        """;

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
    }
}
