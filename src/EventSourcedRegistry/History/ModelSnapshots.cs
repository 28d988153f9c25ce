using System.Text.Json;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql.Tables;

namespace EventSourcedRegistry.History;

/// <summary>How often the model view is snapshotted: every <paramref name="SnapshotEvery"/> stream versions.</summary>
public sealed record TimeTravelSettings(int SnapshotEvery);

/// <summary>A model view as it stood right after the event at <see cref="Version"/> of its stream (global <see cref="Sequence"/>).</summary>
public sealed record ModelSnapshot(Guid ModelId, long Version, long Sequence, ModelView View);

/// <summary>
/// Periodic snapshots of the model view, so a model as of a sequence folds at most <see cref="Interval"/> − 1 events
/// onto the nearest snapshot at or below it instead of replaying its whole stream. One row per model per stream
/// version that is a multiple of the interval: <c>(tenant_id, model_id, version)</c> primary key (a model is a stream of
/// one workspace), the workspace's <c>seq_id</c> of
/// that event, and the view as JSON. Derived data, never events: the table can be emptied and rebuilt from the
/// events at any time (the projection rebuild of <c>ModelView</c> does), and a missing snapshot only makes an
/// as-of read replay further back, never answer differently.
/// </summary>
public static class ModelSnapshots
{
    public const string Table = "model_snapshots";
    public const int DefaultInterval = 100;
    public static string QualifiedTable(string schema) => $"{schema}.{Table}";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { MaxDepth = Audit.CanonicalInput.StoredMaxDepth };

    internal static Table Define(string schema)
    {
        var table = new Table(DeploymentHistory.ObjectName(schema, Table));
        table.AddColumn("tenant_id", "text").NotNull().AsPrimaryKey();
        table.AddColumn("model_id", "uuid").AsPrimaryKey();
        table.AddColumn("version", "bigint").AsPrimaryKey();
        table.AddColumn("seq_id", "bigint").NotNull();
        table.AddColumn("data", "jsonb").NotNull();
        return table;
    }

    public static string Serialize(ModelView view) => JsonSerializer.Serialize(view, Json);
    public static ModelView Deserialize(string json) => JsonSerializer.Deserialize<ModelView>(json, Json)!;

    /// <summary>
    /// The snapshots a model's stream yields: the view after every event whose stream version is a multiple of
    /// <paramref name="interval"/>. <paramref name="events"/> are the whole stream (or a prefix), in order, with
    /// their sequences — what the rebuild and the bulk loader have in hand.
    /// </summary>
    public static IEnumerable<ModelSnapshot> Of(Guid modelId, IReadOnlyList<IEvent> events, int interval)
    {
        ModelView? view = null;
        foreach (var e in events)
        {
            view = Fold(view, modelId, e);
            if (e.Version % interval == 0) yield return new ModelSnapshot(modelId, e.Version, e.Sequence, Clone(view));
        }
    }

    /// <summary>One fold step, exactly as the inline <see cref="ModelViewProjection"/> takes it.</summary>
    public static ModelView Fold(ModelView? view, Guid modelId, IEvent e)
    {
        var next = ModelView.Fold(view, e.Data);
        next.Id = modelId;
        next.Revision = e.Version;
        return next;
    }

    private static ModelView Clone(ModelView view) => Deserialize(Serialize(view));

    /// <summary>The nearest snapshot at or below <paramref name="sequence"/>, and the stream version the model had reached at it (0: none).</summary>
    /// <param name="tenantId">The workspace's tenant id (the reading session's <c>TenantId</c>).</param>
    public static async Task<(ModelView? Snapshot, long VersionAtSequence)> NearestAsync(NpgsqlDataSource data, string schema,
        string tenantId, Guid modelId, long sequence, CancellationToken ct)
    {
        // One round trip: the snapshot, then how far the stream had got at the sequence, scanning only past the snapshot;
        // both within the workspace ($3: its partition of the event table alone is planned and read).
        await using var command = data.CreateCommand(
            $"with s as (select version, data::text as data from {QualifiedTable(schema)} where tenant_id = $3 and model_id = $1 and seq_id <= $2 " +
            "order by version desc limit 1) " +
            "select s.data, coalesce((select max(e.version) from " + schema + ".mt_events e where e.tenant_id = $3 and e.stream_id = $1 " +
            "and e.seq_id <= $2 and e.version > coalesce(s.version, 0)), s.version, 0) from (select 1) one left join s on true");
        command.Parameters.Add(new NpgsqlParameter { Value = modelId });
        command.Parameters.Add(new NpgsqlParameter { Value = sequence });
        command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var snapshot = reader.IsDBNull(0) ? null : Deserialize(reader.GetString(0));
        return (snapshot, reader.GetInt64(1));
    }

    /// <summary>Writes one workspace's snapshots with one binary COPY (bulk loads and rebuilds); the caller deletes stale rows first.</summary>
    public static Task<long> CopyAsync(NpgsqlConnection connection, string schema, WorkspaceId workspace, IEnumerable<ModelSnapshot> snapshots,
        CancellationToken ct) => CopyIntoAsync(connection, QualifiedTable(schema), workspace, snapshots, ct);

    /// <summary>The same COPY into another table of the same columns (the rebuild's scratch table).</summary>
    public static async Task<long> CopyIntoAsync(NpgsqlConnection connection, string table, WorkspaceId workspace,
        IEnumerable<ModelSnapshot> snapshots, CancellationToken ct)
    {
        long rows = 0;
        await using var writer = await connection.BeginBinaryImportAsync(
            $"copy {table} (tenant_id, model_id, version, seq_id, data) from stdin (format binary)", ct);
        foreach (var s in snapshots)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(workspace.TenantId, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(s.ModelId, NpgsqlDbType.Uuid, ct);
            await writer.WriteAsync(s.Version, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(s.Sequence, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(Serialize(s.View), NpgsqlDbType.Jsonb, ct);
            rows++;
        }
        await writer.CompleteAsync(ct);
        return rows;
    }

    /// <summary>
    /// For a rebuild batch: replaces the snapshots of <paramref name="models"/> with <paramref name="snapshots"/>
    /// inside the batch's own transaction (queued on its session, so in its workspace).
    /// </summary>
    public static void QueueReplace(IDocumentOperations operations, string schema, IReadOnlyCollection<Guid> models,
        IEnumerable<ModelSnapshot> snapshots)
    {
        var table = QualifiedTable(schema);
        var tenant = operations.TenantId;
        operations.QueueSqlCommand($"delete from {table} where tenant_id = ? and model_id = any(?)", tenant, models.ToArray());
        foreach (var s in snapshots)
            operations.QueueSqlCommand($"insert into {table} (tenant_id, model_id, version, seq_id, data) values (?, ?, ?, ?, ?::jsonb)",
                tenant, s.ModelId, s.Version, s.Sequence, Serialize(s.View));
    }
}

/// <summary>
/// Writes <see cref="ModelSnapshots"/> inline, in the transaction that appends the events: when an append reaches a
/// stream version that is a multiple of the interval, the view at that version is folded from the nearest earlier
/// snapshot, the stream's stored events since, and the events being appended. The event's sequence is its row's
/// (the store assigns it in the same statement batch), taken as the deployment history takes it (AppendedEventRow).
/// </summary>
public sealed class ModelSnapshotProjection(string schema, int interval) : IProjection
{
    public int Interval { get; } = interval;

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var table = ModelSnapshots.QualifiedTable(schema);
        foreach (var stream in events.GroupBy(e => e.StreamId))
        {
            // The settings and access streams are no model: no view to snapshot.
            if (RegistryStore.RegistryStreams.Contains(stream.Key)) continue;
            var appended = stream.OrderBy(e => e.Version).ToList();
            // A version of 0 means the store did not number this append up front: skip; reads replay further back.
            if (appended[0].Version <= 0) continue;
            var first = appended[0].Version;
            var last = appended[^1].Version;
            if (last / Interval == (first - 1) / Interval) continue; // no multiple of the interval in this append

            var view = await StateBefore(operations, stream.Key, first, cancellation);
            foreach (var e in appended)
            {
                view = ModelSnapshots.Fold(view, stream.Key, e);
                if (e.Version % Interval != 0) continue;
                var (source, parameters) = AppendedEventRow.Source(operations, e, schema);
                operations.QueueSqlCommand(
                    $"with ev as ({source}) insert into {table} (tenant_id, model_id, version, seq_id, data) " +
                    "select ev.tenant_id, ?, ?, ev.seq_id, ?::jsonb from ev " +
                    "on conflict (tenant_id, model_id, version) do update set seq_id = excluded.seq_id, data = excluded.data",
                    [.. parameters, stream.Key, e.Version, ModelSnapshots.Serialize(view)]);
            }
        }
    }

    /// <summary>The committed view right before stream version <paramref name="version"/>: nearest snapshot plus the events since.</summary>
    private async Task<ModelView?> StateBefore(IDocumentOperations operations, Guid id, long version, CancellationToken ct)
    {
        if (version <= 1) return null;
        var stored = await operations.QueryAsync<string>(
            $"select data::text from {ModelSnapshots.QualifiedTable(schema)} where tenant_id = ? and model_id = ? and version < ? " +
            "order by version desc limit 1",
            ct, operations.TenantId, id, version);
        var view = stored.Count > 0 ? ModelSnapshots.Deserialize(stored[0]) : null;
        var from = view?.Revision ?? 0;
        if (from >= version - 1) return view;
        var events = await operations.Events.FetchStreamAsync(id, version: version - 1, fromVersion: from + 1, token: ct);
        foreach (var e in events) view = ModelSnapshots.Fold(view, id, e);
        return view;
    }
}
