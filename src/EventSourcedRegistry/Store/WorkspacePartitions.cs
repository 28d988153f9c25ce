using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Store;

/// <summary>
/// A workspace's place in the store: its Marten tenant, with its own event partition, event sequence and document
/// partitions (docs/design/workspaces.md §2 Q1, §3.2). A workspace that is not registered here cannot be written to
/// (Marten refuses the append with <c>MT002</c>) and reads as empty.
/// </summary>
public static partial class WorkspacePartitions
{
    /// <summary>The partition suffix of <see cref="WorkspaceId.Default"/>: the store written before workspaces opens as it.</summary>
    public const string DefaultSuffix = "default";

    /// <summary>The partition suffix of <see cref="WorkspaceId.Platform"/>.</summary>
    public const string PlatformSuffix = "platform";

    /// <summary>Every other workspace's suffix is this and a number: slugs contain hyphens, which a suffix may not.</summary>
    public const string NumberedPrefix = "ws_";

    /// <summary>
    /// Registers <paramref name="workspace"/> as a tenant of <paramref name="store"/> and returns its partition suffix.
    /// Idempotent: a workspace already registered keeps its suffix (so a retry after a crash between the directory's
    /// event and this call is safe). The event schema is applied first: registering before it exists leaves the event
    /// partitions missing until the next schema apply (§2 Q1).
    /// </summary>
    public static async Task<string> AddAsync(IDocumentStore store, WorkspaceId workspace, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(workspace);
        await store.Storage.Database.EnsureStorageExistsAsync(typeof(IEvent), ct);

        await using var connection = (NpgsqlConnection)store.Storage.Database.CreateConnection();
        await connection.OpenAsync(ct);
        // One registration at a time, so two new workspaces never draw the same number. A session lock, held across
        // Marten's own connection, released with this one.
        await using (var command = new NpgsqlCommand("select pg_advisory_lock(hashtext($1))", connection))
        {
            command.Parameters.AddWithValue(LockName);
            await command.ExecuteNonQueryAsync(ct);
        }

        try
        {
            var suffix = await RegisteredSuffixAsync(connection, workspace, ct)
                         ?? await PartitionedSuffixAsync(connection, workspace, ct)
                         ?? await NewSuffixAsync(connection, workspace, ct);
            // Also when the suffix is registered already: Marten's upsert is idempotent and completes a registration
            // that a crash cut short (partition rows written, a table's partition or the event sequence not yet).
            await store.Advanced.AddMartenManagedTenantsAsync(ct, new Dictionary<string, string> { [workspace.TenantId] = suffix });
            await CompressJsonWithLz4Async(connection, ct);
            return suffix;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(hashtext($1))", connection);
            unlock.Parameters.AddWithValue(LockName);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private const string LockName = RegistryStore.Schema + ".workspace_partitions";

    /// <summary>
    /// Every jsonb column of the store's tables and partitions (documents, events, registry states) compresses what it
    /// TOASTs with lz4 instead of PostgreSQL's default pglz, when the server was built with lz4 (PostgreSQL 14 and later,
    /// as Debian's, the official images and the managed services ship it). A model view lists every version the model
    /// ever had: at 2,000 versions it is about 24 KB of jsonb, compressed at every command that changes the model, and
    /// pglz took 7 % of the machine (30 % of PostgreSQL's own CPU) in the benchmark's register phase; lz4 compresses it
    /// about ten times faster. Values already stored keep their compression (both are read alike); new partitions take
    /// their table's setting. Marten has no setting for a column's compression, hence this statement of ours, run with
    /// each workspace's partitions (at start and when a workspace is made); a table another session holds is left for
    /// the next time (a short lock timeout), as the setting only makes writes cheaper.
    /// This query lists the statements still to run: one per jsonb column not yet on lz4; none on a server without lz4.
    /// </summary>
    public const string ColumnsToCompressSql = $"""
        select format('alter table only %I.%I alter column %I set compression lz4', n.nspname, c.relname, a.attname)
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = '{RegistryStore.Schema}' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
          and a.atttypid = 'jsonb'::regtype and a.attcompression is distinct from 'l'
          and exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals))
        order by c.relname like 'mt_events%', c.relname
        """;

    /// <summary>Each column on its own, so a table another session holds (past a short lock timeout) leaves the others done.</summary>
    private static async Task CompressJsonWithLz4Async(NpgsqlConnection connection, CancellationToken ct)
    {
        var statements = new List<string>();
        await using (var query = new NpgsqlCommand(ColumnsToCompressSql, connection))
        await using (var reader = await query.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) statements.Add(reader.GetString(0));
        if (statements.Count == 0) return;
        await using (var timeout = new NpgsqlCommand("set lock_timeout = '2s'", connection))
            await timeout.ExecuteNonQueryAsync(ct);
        try
        {
            foreach (var statement in statements)
            {
                try
                {
                    await using var alter = new NpgsqlCommand(statement, connection);
                    await alter.ExecuteNonQueryAsync(ct);
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
                {
                    // Left for the next time; the setting only makes writes cheaper.
                }
            }
        }
        finally
        {
            await using var reset = new NpgsqlCommand("reset lock_timeout", connection);
            await reset.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>The partition suffix of a registered workspace, or null when it has none.</summary>
    public static async Task<string?> SuffixAsync(NpgsqlDataSource data, WorkspaceId workspace, CancellationToken ct)
    {
        await using var connection = await data.OpenConnectionAsync(ct);
        return await RegisteredSuffixAsync(connection, workspace, ct);
    }

    /// <summary>Every registered workspace (the platform's included), for jobs that visit each in turn.</summary>
    public static async Task<IReadOnlyList<WorkspaceId>> AllAsync(NpgsqlDataSource data, CancellationToken ct)
    {
        await using var command = data.CreateCommand(
            $"select partition_value from {RegistryStore.Schema}.mt_tenant_partitions order by partition_value");
        var workspaces = new List<WorkspaceId>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                if (WorkspaceId.FromTenantId(reader.GetString(0)) is { } workspace) workspaces.Add(workspace);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }
        return workspaces;
    }

    /// <summary>The name of a workspace's event sequence, from its partition suffix.</summary>
    public static string EventSequence(string schema, string suffix) =>
        SuffixPattern().IsMatch(suffix) ? $"{schema}.{EventGaps.SequencePrefix}{suffix}" : throw new ArgumentException($"'{suffix}' is not a partition suffix.", nameof(suffix));

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_]+$")]
    private static partial System.Text.RegularExpressions.Regex SuffixPattern();

    private static async Task<string?> RegisteredSuffixAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select partition_suffix from {RegistryStore.Schema}.mt_tenant_partitions where partition_value = $1", connection);
        command.Parameters.AddWithValue(workspace.TenantId);
        try
        {
            return await command.ExecuteScalarAsync(ct) as string;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // A store no workspace was registered in yet: Marten creates the table with the first registration.
            return null;
        }
    }

    /// <summary>
    /// The suffix of the event partition that already holds the workspace's value, when its registration row is gone
    /// (Marten's registry emptied, its partitions kept): registering it under a new suffix would fail, since two
    /// partitions cannot hold one value (42P17), and would leave its events behind. So it takes its partitions back.
    /// </summary>
    private static async Task<string?> PartitionedSuffixAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select substr(c.relname, length('mt_events_') + 1) from pg_inherits i join pg_class c on c.oid = i.inhrelid " +
            "join pg_class p on p.oid = i.inhparent join pg_namespace n on n.oid = p.relnamespace " +
            "where n.nspname = $1 and p.relname = 'mt_events' and pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', $2::text)", connection);
        command.Parameters.AddWithValue(RegistryStore.Schema);
        command.Parameters.AddWithValue(workspace.TenantId);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    private static async Task<string> NewSuffixAsync(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct)
    {
        if (workspace == WorkspaceId.Default) return DefaultSuffix;
        if (workspace == WorkspaceId.Platform) return PlatformSuffix;
        // Past every number registered and every event partition that exists: a partition outlives its registration row
        // when Marten's registry is emptied (its ResetAllData truncates every mt_ table), and a number is never reused.
        var partition = EventGaps.PartitionPrefix + NumberedPrefix;
        await using var command = new NpgsqlCommand(
            $"select coalesce(max(substr(c.relname, {partition.Length + 1})::bigint), 0) + 1 from pg_class c " +
            $"join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname ~ '^{partition}[0-9]+$'", connection);
        command.Parameters.AddWithValue(RegistryStore.Schema);
        var fromPartitions = (long)(await command.ExecuteScalarAsync(ct))!;
        await using var registered = new NpgsqlCommand(
            $"select coalesce(max(substr(partition_suffix, {NumberedPrefix.Length + 1})::bigint), 0) + 1 " +
            $"from {RegistryStore.Schema}.mt_tenant_partitions where partition_suffix ~ '^{NumberedPrefix}[0-9]+$'", connection);
        var fromRegistry = 1L;
        try
        {
            fromRegistry = (long)(await registered.ExecuteScalarAsync(ct))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
        }
        return NumberedPrefix + Math.Max(fromPartitions, fromRegistry);
    }
}
