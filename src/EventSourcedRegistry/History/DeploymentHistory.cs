using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace EventSourcedRegistry.History;

/// <summary>
/// The deployment-history view: per model, the intervals during which something held — a version in a stage,
/// an alias on a version, a version deployed in an environment, the model under a name, the model archived.
/// Each interval records who opened and closed it, when, why, and at which global sequence, so "what held at
/// sequence N" is an indexed range query instead of a replay. Each row belongs to one workspace (<c>tenant_id</c>, the
/// Marten tenant of the event that wrote it, leading every key and index): sequences, model ids and names are the
/// workspace's own, so every read names the workspace.
/// </summary>
public static class DeploymentHistory
{
    public const string Table = "deployment_history";

    public static class Kinds
    {
        public const string Stage = "stage";
        public const string Alias = "alias";
        public const string Deployment = "deployment";
        public const string Name = "name";
        public const string Archived = "archived";
    }

    public static string QualifiedTable(string schema) => $"{schema}.{Table}";

    /// <summary>Every column but the surrogate id and the workspace: what a rebuild compares and what <see cref="CopyAsync"/> writes.</summary>
    public const string Columns =
        "model_id, kind, subject, target, version, entered_seq, entered_at, entered_by, entered_reason, left_seq, left_at, left_by, left_reason";

    /// <summary>COPYs folded interval rows of one workspace into <paramref name="table"/> (the view, or a rebuild's scratch table).</summary>
    public static async Task CopyAsync(NpgsqlConnection connection, string table, WorkspaceId workspace, IEnumerable<IntervalRow> rows,
        CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync($"copy {table} (tenant_id, {Columns}) from stdin (format binary)", ct);
        foreach (var row in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(workspace.TenantId, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(row.ModelId, NpgsqlDbType.Uuid, ct);
            await copy.WriteAsync(row.Kind, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(row.Subject, NpgsqlDbType.Text, ct);
            await Nullable(copy, row.Target, NpgsqlDbType.Text, ct);
            await Nullable(copy, row.Version, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(row.EnteredSeq, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(row.EnteredAt, NpgsqlDbType.TimestampTz, ct);
            await Nullable(copy, row.EnteredBy, NpgsqlDbType.Text, ct);
            await Nullable(copy, row.EnteredReason, NpgsqlDbType.Text, ct);
            await Nullable(copy, row.LeftSeq, NpgsqlDbType.Bigint, ct);
            await Nullable(copy, row.LeftAt, NpgsqlDbType.TimestampTz, ct);
            await Nullable(copy, row.LeftBy, NpgsqlDbType.Text, ct);
            await Nullable(copy, row.LeftReason, NpgsqlDbType.Text, ct);
        }
        await copy.CompleteAsync(ct);
    }

    private static Task Nullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct) where T : class =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, type, ct);

    private static Task Nullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct) where T : struct =>
        value is { } v ? copy.WriteAsync(v, type, ct) : copy.WriteNullAsync(ct);

    internal static PostgresqlObjectName ObjectName(string schema, string name)
    {
        // Plain lower-case identifiers; the overload with IdentifierUsage only changes how exotic names get quoted.
#pragma warning disable CS0618
        return new PostgresqlObjectName(schema, name);
#pragma warning restore CS0618
    }

    internal static Table Define(string schema)
    {
        var table = new Table(ObjectName(schema, Table));
        // The workspace leads the key and every index: Marten's per-workspace rebuild deletes "where tenant_id = $ws".
        table.AddColumn<string>("tenant_id").NotNull().AsPrimaryKey();
        table.AddColumn<long>("id").AsPrimaryKey();
        table.ModifyColumn("id").DefaultValueByExpression("nextval('" + schema + ".deployment_history_id_seq')");
        table.AddColumn<Guid>("model_id").NotNull();
        table.AddColumn<string>("kind").NotNull();
        table.AddColumn<string>("subject").NotNull();
        table.AddColumn<string>("target");
        table.AddColumn<int>("version");
        table.AddColumn<long>("entered_seq").NotNull();
        table.AddColumn<DateTimeOffset>("entered_at").NotNull();
        table.AddColumn<string>("entered_by");
        table.AddColumn<string>("entered_reason");
        table.AddColumn<long>("left_seq");
        table.AddColumn<DateTimeOffset>("left_at");
        table.AddColumn<string>("left_by");
        table.AddColumn<string>("left_reason");
        table.Indexes.Add(new IndexDefinition($"ix_{Table}_model") { Columns = ["tenant_id", "model_id", "kind", "entered_seq"] });
        // The open intervals, by version too: a promotion closes its version's interval in the stage it leaves, and every
        // other version still in that stage (hundreds in None on a long-lived model) is open there as well. Without the
        // version the close walked all of them (issue 17: 0.8 ms of PostgreSQL per promotion with 500 to 750 versions in None).
        table.Indexes.Add(new IndexDefinition($"ix_{Table}_open")
        {
            Columns = ["tenant_id", "model_id", "kind", "subject", "version"],
            Predicate = "left_seq is null",
        });
        // Covering, so the registry as of a sequence walks the names held then without touching the table
        // (index-only scans: the visibility map is kept by autovacuum). What each model held then is in RegistryStates.
        table.Indexes.Add(new IndexDefinition($"ix_{Table}_names")
        {
            Columns = ["tenant_id", "kind", "lower(subject)", "model_id"],
            IncludeColumns = ["subject", "entered_seq", "left_seq"],
        });
        return table;
    }
}

/// <summary>
/// Keeps <see cref="DeploymentHistory"/> inline, in the transaction that appends the events. Sequence, time,
/// actor and reason are read from the event's own row (the store assigns sequence and timestamp), so the view
/// agrees with the event log to the byte. Rows carry the event's workspace (<c>e.TenantId</c>), and the event's row is
/// found by id within that workspace's partition of the event table.
/// </summary>
public sealed class DeploymentHistoryProjection : EventProjection
{
    private readonly string _table;
    private readonly string _events;

    public DeploymentHistoryProjection(string schema)
    {
        _table = DeploymentHistory.QualifiedTable(schema);
        _events = $"{schema}.mt_events";
        SchemaObjects.Add(new Sequence(DeploymentHistory.ObjectName(schema, "deployment_history_id_seq")));
        SchemaObjects.Add(DeploymentHistory.Define(schema));
        foreach (var type in Store.RegistryStore.EventTypes) IncludeType(type);
    }

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        switch (IntervalTransition.Of(e.Data))
        {
            case { ClosesAll: { } all } t:
                CloseAll(operations, e, t.ModelId, all.Version, t.Reason);
                break;
            case { Closes: { } closed, Opens: { } opened } t:
                CloseAndOpen(operations, e, t.ModelId, closed, opened, t.Reason);
                break;
            case { Closes: { } closed } t:
                Close(operations, e, t.ModelId, closed, t.Reason);
                break;
            case { Opens: { } opened } t:
                Open(operations, e, t.ModelId, opened, t.Reason);
                break;
        }
        return ValueTask.CompletedTask;
    }

    private void Open(IDocumentOperations operations, IEvent e, Guid modelId, IntervalTransition.Interval opened, string? reason) =>
        operations.QueueSqlCommand(
            $"insert into {_table} (tenant_id, model_id, kind, subject, target, version, entered_seq, entered_at, entered_by, entered_reason) " +
            $"select ev.tenant_id, ?, ?, ?, ?, ?, ev.seq_id, ev.timestamp, ev.user_name, coalesce(?, ev.headers ->> 'reason') from {_events} ev " +
            "where ev.id = ? and ev.tenant_id = ?",
            modelId, opened.Kind, opened.Subject, (object?)opened.Target ?? DBNull.Value, (object?)opened.Version ?? DBNull.Value,
            (object?)reason ?? DBNull.Value, e.Id, e.TenantId);

    /// <summary>
    /// <see cref="Close"/> then <see cref="Open"/> for one event, as one statement: the update and the insert share a
    /// snapshot, so the update cannot meet the row the insert adds, exactly as when the two run one after the other.
    /// </summary>
    private void CloseAndOpen(IDocumentOperations operations, IEvent e, Guid modelId, IntervalTransition.Interval closed,
        IntervalTransition.Interval opened, string? reason) =>
        operations.QueueSqlCommand(
            $"with ev as (select tenant_id, seq_id, timestamp, user_name, coalesce(?, headers ->> 'reason') as reason from {_events} " +
            "where id = ? and tenant_id = ?), " +
            $"closed as (update {_table} h set left_seq = ev.seq_id, left_at = ev.timestamp, left_by = ev.user_name, left_reason = ev.reason " +
            "from ev where h.tenant_id = ev.tenant_id and h.model_id = ? and h.kind = ? and h.subject = ? and h.target is not distinct from ? " +
            "and (?::integer is null or h.version = ?) and h.left_seq is null) " +
            $"insert into {_table} (tenant_id, model_id, kind, subject, target, version, entered_seq, entered_at, entered_by, entered_reason) " +
            "select ev.tenant_id, ?, ?, ?, ?, ?, ev.seq_id, ev.timestamp, ev.user_name, ev.reason from ev",
            (object?)reason ?? DBNull.Value, e.Id, e.TenantId,
            modelId, closed.Kind, closed.Subject, (object?)closed.Target ?? DBNull.Value, (object?)closed.Version ?? DBNull.Value, (object?)closed.Version ?? DBNull.Value,
            modelId, opened.Kind, opened.Subject, (object?)opened.Target ?? DBNull.Value, (object?)opened.Version ?? DBNull.Value);

    /// <summary>
    /// Closes every open interval of the model (a deletion: its name, stages, aliases, deployments, archived), or only those
    /// of <paramref name="version"/> (a version's deletion: its stage, aliases, deployments).
    /// </summary>
    private void CloseAll(IDocumentOperations operations, IEvent e, Guid modelId, int? version, string? reason) =>
        operations.QueueSqlCommand(
            $"update {_table} h set left_seq = ev.seq_id, left_at = ev.timestamp, left_by = ev.user_name, " +
            $"left_reason = coalesce(?, ev.headers ->> 'reason') from {_events} ev where ev.id = ? and ev.tenant_id = ? " +
            "and h.tenant_id = ev.tenant_id and h.model_id = ? and (?::integer is null or h.version = ?) and h.left_seq is null",
            (object?)reason ?? DBNull.Value, e.Id, e.TenantId, modelId, (object?)version ?? DBNull.Value, (object?)version ?? DBNull.Value);

    /// <summary>Closes the open interval of that subject (and target, and version when given).</summary>
    private void Close(IDocumentOperations operations, IEvent e, Guid modelId, IntervalTransition.Interval closed, string? reason) =>
        operations.QueueSqlCommand(
            $"update {_table} h set left_seq = ev.seq_id, left_at = ev.timestamp, left_by = ev.user_name, " +
            $"left_reason = coalesce(?, ev.headers ->> 'reason') from {_events} ev where ev.id = ? and ev.tenant_id = ? " +
            "and h.tenant_id = ev.tenant_id and h.model_id = ? and h.kind = ? and h.subject = ? and h.target is not distinct from ? " +
            "and (?::integer is null or h.version = ?) and h.left_seq is null",
            (object?)reason ?? DBNull.Value, e.Id, e.TenantId, modelId, closed.Kind, closed.Subject, (object?)closed.Target ?? DBNull.Value,
            (object?)closed.Version ?? DBNull.Value, (object?)closed.Version ?? DBNull.Value);
}
