using System.Diagnostics;
using JasperFx;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Marten.Events.Archiving;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventSourcedRegistry.Store;

/// <summary>
/// Opens a store written before workspaces as the <c>default</c> workspace (docs/design/workspaces.md §4): at startup,
/// before Marten's own migration can touch it (its in-place move to partitioned events breaks the store, §5 #3), the
/// unpartitioned <c>registry</c> schema is renamed to <see cref="SourceSchema"/> and only read from then on; Marten
/// creates the partitioned schema; the events are copied into <c>default</c> with their sequences, ids, times and
/// metadata; the documents and the registry's own tables are copied with the workspace's id; and only when counts and
/// checksums of everything copied agree is the upgrade recorded as done. Otherwise the API must not serve.
/// </summary>
public static class PreWorkspacesUpgrade
{
    /// <summary>Where the store written before workspaces is kept, untouched, until an operator drops it.</summary>
    public const string SourceSchema = "registry_pre_workspaces";

    /// <summary>One row: when the upgrade started and finished and what it copied (a platform table, not a workspace's).</summary>
    public const string MarkerTable = RegistryStore.Schema + ".esr_pre_workspaces_upgrade";

    /// <summary>Columns a table gained with workspaces that hold the workspace: filled with <c>default</c> in the copy.</summary>
    public static readonly IReadOnlySet<string> WorkspaceColumns = new HashSet<string> { "tenant_id", "workspace" };

    public const int BatchSize = 5000;

    /// <summary>The default workspace's partition suffix (its event table is <c>mt_events_default</c>).</summary>
    public const string DefaultSuffix = WorkspacePartitions.DefaultSuffix;

    public enum State { NotNeeded, Upgraded, Failed }

    public sealed record TableCopy(string Table, long Rows);

    public sealed record Outcome(State State, string Summary, long Events = 0, long Streams = 0, TimeSpan Elapsed = default,
        IReadOnlyList<TableCopy>? Tables = null, string? EventsMd5 = null)
    {
        public double EventsPerSecond => Elapsed > TimeSpan.Zero ? Events / Elapsed.TotalSeconds : 0;
    }

    /// <summary>
    /// Upgrades the store when it was written before workspaces, and does nothing otherwise (a second start, a new
    /// store). <paramref name="configureTarget"/> configures a store exactly as the host does (connection and
    /// <see cref="RegistryStore.ConfigureRegistry"/>); <paramref name="hostTables"/> creates the tables the host makes
    /// itself at start (not Marten), in their current shape, so the copy fills them. Several nodes starting at once take
    /// turns on an advisory lock.
    /// </summary>
    public static async Task<Outcome> RunAsync(string connectionString, Action<StoreOptions> configureTarget,
        IReadOnlyList<string> hostTables, ILogger logger, CancellationToken ct = default)
    {
        // The copy's target is a store whose events are partitioned per workspace; a store configured without that has
        // nothing to be upgraded to (and Marten would use the old schema as it is).
        var configured = new StoreOptions();
        configureTarget(configured);
        if (!configured.Events.UseTenantPartitionedEvents)
            return new Outcome(State.NotNeeded, "The store is configured without workspaces: nothing to upgrade to.");

        await using var data = NpgsqlDataSource.Create(connectionString);
        await using var guard = await data.OpenConnectionAsync(ct);
        await Execute(guard, $"select pg_advisory_lock(hashtext('{MarkerTable}'))", ct);
        try
        {
            var (copy, refusal) = await DecideAsync(guard, logger, ct);
            if (refusal is not null) return refusal;
            if (!copy) return new Outcome(State.NotNeeded, "The store has workspaces: nothing to upgrade.");

            logger.LogWarning("The store was written before workspaces: it is kept as schema {Source} and copied into the workspace 'default'",
                SourceSchema);
            return await CopyAsync(data, connectionString, configureTarget, hostTables, logger, ct);
        }
        finally
        {
            await Execute(guard, $"select pg_advisory_unlock(hashtext('{MarkerTable}'))", CancellationToken.None);
        }
    }

    /// <summary>
    /// Whether the copy is to be (re)made, once the source is kept aside and an empty target schema holds the marker; or a
    /// refusal when the schemas are in a state this code did not leave.
    /// </summary>
    private static async Task<(bool Copy, Outcome? Refusal)> DecideAsync(NpgsqlConnection connection, ILogger logger, CancellationToken ct)
    {
        var registryEvents = await Scalar<char?>(connection,
            $"select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = '{RegistryStore.Schema}' and c.relname = 'mt_events'", ct);
        var sourceExists = await Scalar<bool>(connection, $"select exists (select 1 from pg_namespace where nspname = '{SourceSchema}')", ct);
        var marker = await Scalar<bool>(connection, $"select to_regclass('{MarkerTable}') is not null", ct);
        var finished = marker && await Scalar<bool>(connection, $"select exists (select 1 from {MarkerTable} where finished_at is not null)", ct);

        // 'r': an ordinary table, so events were never partitioned per workspace.
        if (registryEvents == 'r')
        {
            if (sourceExists)
                return (false, new Outcome(State.Failed, $"Both '{RegistryStore.Schema}' (written before workspaces) and '{SourceSchema}' exist: " +
                                                         "rename or drop one of them by hand; nothing was changed."));
            // The rename, the new schema and its marker in one transaction: a crash leaves either the old store as it was,
            // or the source kept aside with a marker saying the copy did not finish.
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await Execute(connection, $"""
                alter schema {RegistryStore.Schema} rename to {SourceSchema};
                create schema {RegistryStore.Schema};
                {CreateMarkerSql}
                """, ct);
            await transaction.CommitAsync(ct);
            return (true, null);
        }

        if (!sourceExists || finished) return (false, null);
        if (!marker)
            return (false, new Outcome(State.Failed, $"Schema '{SourceSchema}' exists but '{MarkerTable}' does not say an upgrade started: " +
                                                     "it was not left by this upgrade; nothing was changed."));

        // An earlier upgrade did not finish (it crashed or found a difference): the API never served from its copy, so the
        // copy is dropped and made again from the untouched source.
        logger.LogWarning("An earlier upgrade of the store written before workspaces did not finish: its copy is dropped and made again");
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            await Execute(connection, $"""
                drop schema {RegistryStore.Schema} cascade;
                create schema {RegistryStore.Schema};
                {CreateMarkerSql}
                """, ct);
            await transaction.CommitAsync(ct);
        }
        return (true, null);
    }

    private static string CreateMarkerSql => $"""
        create table {MarkerTable} (
          source_schema text not null, started_at timestamptz not null default now(), finished_at timestamptz,
          events bigint, streams bigint, events_md5 text, tables jsonb);
        insert into {MarkerTable} (source_schema) values ('{SourceSchema}');
        comment on table {MarkerTable} is 'The upgrade of a store written before workspaces (kept as {SourceSchema}); the API serves only when finished_at is set.';
        """;

    private static async Task<Outcome> CopyAsync(NpgsqlDataSource data, string connectionString, Action<StoreOptions> configureTarget,
        IReadOnlyList<string> hostTables, ILogger logger, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await using var target = DocumentStore.For(options =>
        {
            configureTarget(options);
            options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        });
        await target.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        // Registered before any event is copied (§2 Q1), with the suffixes every start uses.
        await WorkspacePartitions.AddAsync(target, WorkspaceId.Platform, ct);
        await WorkspacePartitions.AddAsync(target, WorkspaceId.Default, ct);
        await using (var connection = await data.OpenConnectionAsync(ct))
            foreach (var sql in hostTables)
                await Execute(connection, sql, ct);
        logger.LogInformation("Upgrade: partitioned schema created and workspaces registered in {Seconds:F1} s", clock.Elapsed.TotalSeconds);

        // The source is read through a store of its own shape (one tenant, no partitions) that may never change its schema.
        await using var source = DocumentStore.For(options =>
        {
            options.Connection(connectionString);
            options.DatabaseSchemaName = SourceSchema;
            options.Serializer(target.Options.Serializer());
            options.Events.StreamIdentity = StreamIdentity.AsGuid;
            options.Events.MetadataConfig.EnableAll();
            options.Events.MetadataConfig.UserNameEnabled = true;
            options.Events.AddEventTypes(RegistryStore.EventTypes);
            options.AutoCreateSchemaObjects = AutoCreate.None;
        });

        var headers = await StreamHeadersAsync(data, ct);
        var copying = Stopwatch.StartNew();
        await using (var session = source.QuerySession())
        {
            var events = session.Events.QueryAllRawEvents()
                .Where(e => e.MaybeArchived())
                .OrderBy(e => e.Sequence)
                .ToAsyncEnumerable(ct);
            await target.BulkInsertEventStreamAsync(WorkspaceId.Default.TenantId, headers, events,
                BulkEventSequenceMode.PreserveSourceSequence, BatchSize, ct);
        }
        var eventsCopied = copying.Elapsed;

        IReadOnlyList<TableCopy> tables;
        await using (var connection = await data.OpenConnectionAsync(ct))
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            // The events went through Marten's serializer on their way: read into today's classes and written again.
            // What was stored is the record, not what today's classes make of it (an event stored before a field was
            // added would gain it as null; "no headers", stored as the JSON null, becomes SQL NULL; an upcast event would
            // be rewritten in its new shape). So the stored payloads are put back as they were, which the check below
            // then proves column by column. The streams' times, which the copy sets to its own, likewise.
            var restored = await Execute(connection, $"""
                update {RegistryStore.Schema}.mt_events t
                set data = s.data, headers = s.headers, type = s.type, mt_dotnet_type = s.mt_dotnet_type
                from {SourceSchema}.mt_events s
                where t.tenant_id = '{WorkspaceId.Default.TenantId}' and t.seq_id = s.seq_id
                  and (t.data, t.headers, t.type, t.mt_dotnet_type) is distinct from (s.data, s.headers, s.type, s.mt_dotnet_type)
                """, ct);
            logger.LogInformation("Upgrade: {Events} events copied in {Seconds:F1} s; {Restored} of them had their stored payload put back",
                headers.Sum(h => h.Version), eventsCopied.TotalSeconds, restored);
            await Execute(connection, $"""
                update {RegistryStore.Schema}.mt_streams t set timestamp = s.timestamp, created = s.created
                from {SourceSchema}.mt_streams s
                where t.tenant_id = '{WorkspaceId.Default.TenantId}' and t.id = s.id;
                """, ct);
            tables = await CopyTablesAsync(connection, ct);
            var left = (await TablesAsync(connection, SourceSchema, ct))
                .Where(t => !t.StartsWith("mt_", StringComparison.Ordinal) && tables.All(c => c.Table != t)).ToList();
            if (left.Count > 0)
                logger.LogWarning("Upgrade: not copied, as the registry no longer has them at this point: {Tables}", string.Join(", ", left));
            await CopyProgressionAsync(connection, ct);
            await transaction.CommitAsync(ct);
        }

        await using var check = await data.OpenConnectionAsync(ct);
        var problems = await VerifyAsync(check, ct);
        if (problems.Count > 0)
            return new Outcome(State.Failed, "The copy differs from the store written before workspaces: " + string.Join("; ", problems) +
                                             $". Schema '{SourceSchema}' is untouched; the next start makes the copy again.");
        var sourceEvents = await EventFiguresAsync(check, SourceSchema, "true", ct);
        var sourceStreams = await StreamFiguresAsync(check, SourceSchema, "true", ct);

        var tableFigures = System.Text.Json.JsonSerializer.Serialize(tables.ToDictionary(t => t.Table, t => t.Rows));
        await using (var command = new NpgsqlCommand(
                         $"update {MarkerTable} set finished_at = now(), events = $1, streams = $2, events_md5 = $3, tables = $4::jsonb", check))
        {
            command.Parameters.AddWithValue(sourceEvents.Count);
            command.Parameters.AddWithValue(sourceStreams.Count);
            command.Parameters.AddWithValue(sourceEvents.Md5 ?? "");
            command.Parameters.AddWithValue(tableFigures);
            await command.ExecuteNonQueryAsync(ct);
        }

        var outcome = new Outcome(State.Upgraded,
            $"Upgraded the store written before workspaces into the workspace 'default': {sourceEvents.Count} events of " +
            $"{sourceStreams.Count} streams in {eventsCopied.TotalSeconds:F1} s " +
            $"({(eventsCopied > TimeSpan.Zero ? sourceEvents.Count / eventsCopied.TotalSeconds : 0):F0} events/s), " +
            $"{tables.Count} tables ({string.Join(", ", tables.Select(t => $"{t.Table} {t.Rows}"))}), all in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"events md5 {sourceEvents.Md5} before and after. The old store stays in schema '{SourceSchema}' until dropped.",
            sourceEvents.Count, sourceStreams.Count, eventsCopied, tables, sourceEvents.Md5);
        return outcome;
    }

    /// <summary>
    /// What differs between the store written before workspaces and its copy in <c>default</c>; empty when nothing does.
    /// Compares counts and md5s of the events (every column that makes one), of the streams (a copy given no stream
    /// headers still copies every event, §4, so the events alone do not prove it), of every copied table over the
    /// columns both schemas have, and that the workspace's sequence is past the last copied event.
    /// </summary>
    public static async Task<IReadOnlyList<string>> VerifyAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var problems = new List<string>();
        var workspace = $"tenant_id = '{WorkspaceId.Default.TenantId}'";
        var sourceEvents = await EventFiguresAsync(connection, SourceSchema, "true", ct);
        var targetEvents = await EventFiguresAsync(connection, RegistryStore.Schema, workspace, ct);
        if (sourceEvents != targetEvents)
            problems.Add($"events: {sourceEvents.Count} with md5 {sourceEvents.Md5} before, {targetEvents.Count} with md5 {targetEvents.Md5} after");
        var sourceStreams = await StreamFiguresAsync(connection, SourceSchema, "true", ct);
        var targetStreams = await StreamFiguresAsync(connection, RegistryStore.Schema, workspace, ct);
        if (sourceStreams != targetStreams)
            problems.Add($"streams: {sourceStreams.Count} with md5 {sourceStreams.Md5} before, {targetStreams.Count} with md5 {targetStreams.Md5} after");
        foreach (var table in await CopiedTablesAsync(connection, ct))
        {
            if (await TableDifferenceAsync(connection, table, ct) is { } difference) problems.Add(difference);
            foreach (var (column, sequence) in await SequencesAsync(connection, table, ct))
                if (await Scalar<bool>(connection,
                        $"select coalesce((select max({Quote(column)}) from {RegistryStore.Schema}.{Quote(table)}), 0) > " +
                        $"(select case when is_called then last_value else last_value - 1 end from {sequence})", ct))
                    problems.Add($"{table}.{column}: its sequence {sequence} is below the copied values");
        }
        var next = await Scalar<long>(connection, $"select last_value from {RegistryStore.Schema}.mt_events_sequence_{DefaultSuffix}", ct);
        var highest = await Scalar<long?>(connection, $"select max(seq_id) from {SourceSchema}.mt_events", ct) ?? 0;
        if (next < highest) problems.Add($"the default workspace's sequence is at {next}, below the last copied event {highest}");
        return problems;
    }

    /// <summary>
    /// The tables copied: every table of the source that the new schema also has, the documents (mt_doc_*) and the
    /// registry's own, but not Marten's event and bookkeeping tables (mt_*): the events are copied by Marten's bulk
    /// insert (their stored bytes then written back), and the progression is renamed per workspace.
    /// </summary>
    private static async Task<List<string>> CopiedTablesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var target = await TablesAsync(connection, RegistryStore.Schema, ct);
        return (await TablesAsync(connection, SourceSchema, ct))
            .Where(t => !t.StartsWith("mt_", StringComparison.Ordinal) || t.StartsWith("mt_doc_", StringComparison.Ordinal))
            .Where(t => t != "esr_pre_workspaces_upgrade" && target.Contains(t))
            // Documents first: triggers on them fill tables derived from them (model_tags), which are then complete.
            .OrderBy(t => t.StartsWith("mt_doc_", StringComparison.Ordinal) ? 0 : 1).ThenBy(t => t, StringComparer.Ordinal)
            .ToList();
    }

    private static async Task<List<BulkEventStreamHeader>> StreamHeadersAsync(NpgsqlDataSource data, CancellationToken ct)
    {
        var headers = new List<BulkEventStreamHeader>();
        await using var command = data.CreateCommand($"select id, type, version, is_archived from {SourceSchema}.mt_streams order by id");
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            headers.Add(new BulkEventStreamHeader
            {
                Id = reader.GetGuid(0),
                AggregateTypeName = reader.IsDBNull(1) ? null : reader.GetString(1),
                Version = reader.IsDBNull(2) ? 0 : reader.GetInt64(2),
                IsArchived = !reader.IsDBNull(3) && reader.GetBoolean(3),
            });
        return headers;
    }

    /// <summary>
    /// Copies the tables (<see cref="CopiedTablesAsync"/>) over the columns both schemas have, with each workspace column
    /// set to <c>default</c>: written from the column lists, so it copies whatever shape the tables have now.
    /// </summary>
    private static async Task<IReadOnlyList<TableCopy>> CopyTablesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var copies = new List<TableCopy>();
        foreach (var table in await CopiedTablesAsync(connection, ct))
        {
            var targetColumns = await ColumnsAsync(connection, RegistryStore.Schema, table, ct);
            var sourceColumns = await ColumnsAsync(connection, SourceSchema, table, ct);
            var shared = sourceColumns.Keys.Where(targetColumns.ContainsKey).Where(c => !targetColumns[c].Generated).ToList();
            var filled = targetColumns.Where(c => !sourceColumns.ContainsKey(c.Key) && WorkspaceColumns.Contains(c.Key)).Select(c => c.Key).ToList();
            var missing = targetColumns.Where(c => !sourceColumns.ContainsKey(c.Key) && !filled.Contains(c.Key) && c.Value.Required).Select(c => c.Key).ToList();
            if (missing.Count > 0)
                throw new InvalidOperationException($"Table {table} needs column(s) {string.Join(", ", missing)} the store written before workspaces does not have.");

            var into = string.Join(", ", shared.Concat(filled).Select(Quote));
            var from = string.Join(", ", shared.Select(Quote).Concat(filled.Select(_ => $"'{WorkspaceId.Default.TenantId}'")));
            // Rows a trigger already wrote (a table kept from another as the copy went) are left: the check compares both.
            var rows = await Execute(connection,
                $"insert into {RegistryStore.Schema}.{Quote(table)} ({into}) select {from} from {SourceSchema}.{Quote(table)} on conflict do nothing", ct);
            copies.Add(new TableCopy(table, rows));
            // A column numbered by a sequence (serial, identity, or a default of nextval on a sequence of its own, like the
            // deployment history's) draws from the new schema's sequence, still at its start: move it past the copied ids.
            foreach (var (column, sequence) in await SequencesAsync(connection, table, ct))
                await Execute(connection,
                    $"select setval('{sequence}', coalesce(max({Quote(column)}), 1), max({Quote(column)}) is not null) from {RegistryStore.Schema}.{Quote(table)}", ct);
        }
        return copies;
    }

    /// <summary>
    /// The async projections' progress (<c>AuditLog:All</c>) becomes the default workspace's (<c>AuditLog:All:default</c>):
    /// their tables were copied, so the daemon continues after the last event they hold instead of writing them again.
    /// The high-water mark was seeded by the event copy.
    /// </summary>
    private static async Task CopyProgressionAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var sourceColumns = await ColumnsAsync(connection, SourceSchema, "mt_event_progression", ct);
        var targetColumns = await ColumnsAsync(connection, RegistryStore.Schema, "mt_event_progression", ct);
        var shared = sourceColumns.Keys.Where(c => c != "name" && targetColumns.ContainsKey(c) && !targetColumns[c].Generated).ToList();
        var columns = string.Join(", ", shared.Select(Quote));
        await Execute(connection, $"""
            insert into {RegistryStore.Schema}.mt_event_progression (name{(shared.Count > 0 ? ", " + columns : "")})
            select name || ':{WorkspaceId.Default.TenantId}'{(shared.Count > 0 ? ", " + columns : "")}
            from {SourceSchema}.mt_event_progression where name like '%:All'
            on conflict (name) do nothing
            """, ct);
    }

    public sealed record Figures(long Count, string? Md5);

    /// <summary>Count and md5 over every column that makes an event what it is, in sequence order (the spike's check, §4).</summary>
    public static async Task<Figures> EventFiguresAsync(NpgsqlConnection connection, string schema, string filter, CancellationToken ct) =>
        await FiguresAsync(connection,
            $"select count(*), md5(string_agg(row(seq_id, id, stream_id, version, type, data, headers, timestamp, correlation_id, causation_id, user_name)::text, " +
            $"E'\\n' order by seq_id)) from {schema}.mt_events where {filter}", ct);

    private static async Task<Figures> StreamFiguresAsync(NpgsqlConnection connection, string schema, string filter, CancellationToken ct) =>
        await FiguresAsync(connection,
            $"select count(*), md5(string_agg(row(id, version, type, is_archived, timestamp, created)::text, E'\\n' order by id)) from {schema}.mt_streams where {filter}", ct);

    /// <summary>A copied table whose rows (over the columns both schemas have) differ in number or content, described; null when equal.</summary>
    private static async Task<string?> TableDifferenceAsync(NpgsqlConnection connection, string table, CancellationToken ct)
    {
        var sourceColumns = await ColumnsAsync(connection, SourceSchema, table, ct);
        var targetColumns = await ColumnsAsync(connection, RegistryStore.Schema, table, ct);
        var shared = sourceColumns.Keys.Where(targetColumns.ContainsKey).Select(Quote).ToList();
        var row = $"row({string.Join(", ", shared)})::text";
        var workspace = targetColumns.Keys.Where(WorkspaceColumns.Contains)
            .Select(c => $"{Quote(c)} = '{WorkspaceId.Default.TenantId}'").DefaultIfEmpty("true");
        var before = await FiguresAsync(connection, $"select count(*), md5(string_agg({row}, E'\\n' order by {row})) from {SourceSchema}.{Quote(table)}", ct);
        var after = await FiguresAsync(connection,
            $"select count(*), md5(string_agg({row}, E'\\n' order by {row})) from {RegistryStore.Schema}.{Quote(table)} where {string.Join(" and ", workspace)}", ct);
        return before == after ? null : $"{table}: {before.Count} rows ({before.Md5}) before, {after.Count} ({after.Md5}) after";
    }

    private static async Task<Figures> FiguresAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new Figures(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    /// <summary>The columns of a table in the new schema that draw their values from a sequence, with it.</summary>
    private static async Task<List<(string Column, string Sequence)>> SequencesAsync(NpgsqlConnection connection, string table, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"""
            select column_name, coalesce(pg_get_serial_sequence('{RegistryStore.Schema}.{Quote(table)}', column_name),
                                         substring(column_default from 'nextval\(''([^'']+)''::regclass\)'))
            from information_schema.columns where table_schema = '{RegistryStore.Schema}' and table_name = $1
            """, connection);
        command.Parameters.AddWithValue(table);
        var sequences = new List<(string, string)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            if (!reader.IsDBNull(1)) sequences.Add((reader.GetString(0), reader.GetString(1)));
        return sequences;
    }

    private sealed record Column(bool Required, bool Generated);

    private static async Task<List<string>> TablesAsync(NpgsqlConnection connection, string schema, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' order by table_name", connection);
        command.Parameters.AddWithValue(schema);
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) tables.Add(reader.GetString(0));
        return tables;
    }

    /// <summary>A table's columns in order; none when it does not exist. Partitions of a partitioned table are not listed as tables.</summary>
    private static async Task<Dictionary<string, Column>> ColumnsAsync(NpgsqlConnection connection, string schema, string table, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            select column_name, is_nullable = 'NO' and column_default is null and is_identity = 'NO' and is_generated = 'NEVER',
                   is_generated <> 'NEVER' or coalesce(identity_generation = 'ALWAYS', false)
            from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position
            """, connection);
        command.Parameters.AddWithValue(schema);
        command.Parameters.AddWithValue(table);
        var columns = new Dictionary<string, Column>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) columns[reader.GetString(0)] = new Column(reader.GetBoolean(1), reader.GetBoolean(2));
        return columns;
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private static async Task<int> Execute(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default! : (T)value;
    }
}
