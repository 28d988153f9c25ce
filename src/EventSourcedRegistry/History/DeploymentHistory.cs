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
/// Keeps <see cref="DeploymentHistory"/> inline, in the transaction that appends the events. Sequence, time, actor and
/// reason are the event row's own (the store assigns sequence and timestamp), so the view agrees with the event log to
/// the byte: each statement takes them from <see cref="AppendedEventRow.Source"/>, which reads the event's row by id
/// within its workspace's partition, or, for the session's last appended event, computes what the append function
/// wrote. Rows carry the event's workspace (<c>e.TenantId</c>). A null version or target is spelled in the statement's
/// text rather than tested on a parameter, so a statement run on a generic plan still finds its row by the open
/// intervals' index, version included.
/// </summary>
public sealed class DeploymentHistoryProjection : EventProjection
{
    private readonly string _schema;
    private readonly string _table;

    public DeploymentHistoryProjection(string schema)
    {
        _schema = schema;
        _table = DeploymentHistory.QualifiedTable(schema);
        SchemaObjects.Add(new Sequence(DeploymentHistory.ObjectName(schema, "deployment_history_id_seq")));
        SchemaObjects.Add(DeploymentHistory.Define(schema));
        foreach (var type in Store.RegistryStore.EventTypes) IncludeType(type);
    }

    public override ValueTask ApplyAsync(IDocumentOperations operations, IEvent e, CancellationToken cancellation)
    {
        if (IntervalTransition.Of(e.Data) is not { } t) return ValueTask.CompletedTask;
        var parameters = new List<object>();
        string? closedFirst = null; // a close that precedes the statement, as a data-modifying CTE
        string statement;
        if (t.ClosesAll is { } all)
        {
            // A deletion: every open interval of the model, or only those of its version.
            parameters.Add(t.ModelId);
            var version = all.Version is { } v ? $" and h.version = {AppendedEventRow.Bind(parameters, v, "integer")}" : "";
            statement = $"update {_table} h set {Left} from ev where h.tenant_id = ev.tenant_id and h.model_id = ?{version} and h.left_seq is null";
        }
        else if (t.Closes is { } closed && t.Opens is { } opened)
        {
            // One statement: the update and the insert share a snapshot, so the update cannot meet the row the insert
            // adds, exactly as when the two run one after the other.
            closedFirst = $"closed as (update {_table} h set {Left} from ev where {Closing(parameters, t.ModelId, closed)})";
            statement = Opening(parameters, t.ModelId, opened);
        }
        else if (t.Closes is { } only)
            statement = $"update {_table} h set {Left} from ev where {Closing(parameters, t.ModelId, only)}";
        else if (t.Opens is { } open)
            statement = Opening(parameters, t.ModelId, open);
        else
            return ValueTask.CompletedTask;

        var (source, sourceParameters) = AppendedEventRow.Source(operations, e, _schema, t.Reason);
        var with = closedFirst is null ? $"with ev as ({source})" : $"with ev as ({source}), {closedFirst}";
        operations.QueueSqlCommand($"{with} {statement}", [.. sourceParameters, .. parameters]);
        return ValueTask.CompletedTask;
    }

    private const string Left = "left_seq = ev.seq_id, left_at = ev.timestamp, left_by = ev.user_name, left_reason = ev.reason";

    /// <summary>The open interval of that subject (and target, and version when given), as an update's condition on <c>h</c>.</summary>
    private static string Closing(List<object> parameters, Guid modelId, IntervalTransition.Interval closed)
    {
        parameters.Add(modelId);
        parameters.Add(closed.Kind);
        parameters.Add(closed.Subject);
        var target = closed.Target is { } t ? $" and h.target = {AppendedEventRow.Bind(parameters, t, "varchar")}" : " and h.target is null";
        var version = closed.Version is { } v ? $" and h.version = {AppendedEventRow.Bind(parameters, v, "integer")}" : "";
        return $"h.tenant_id = ev.tenant_id and h.model_id = ? and h.kind = ? and h.subject = ?{target}{version} and h.left_seq is null";
    }

    private string Opening(List<object> parameters, Guid modelId, IntervalTransition.Interval opened)
    {
        parameters.Add(modelId);
        parameters.Add(opened.Kind);
        parameters.Add(opened.Subject);
        var target = AppendedEventRow.Bind(parameters, opened.Target, "varchar");
        var version = AppendedEventRow.Bind(parameters, opened.Version, "integer");
        return $"insert into {_table} (tenant_id, model_id, kind, subject, target, version, entered_seq, entered_at, entered_by, entered_reason) " +
               $"select ev.tenant_id, ?, ?, ?, {target}, {version}, ev.seq_id, ev.timestamp, ev.user_name, ev.reason from ev";
    }
}
