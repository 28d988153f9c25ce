using System.Text;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using SessionOptions = Marten.Services.SessionOptions;
using Npgsql;

namespace EventSourcedRegistry.Api.Audit;

/// <summary>
/// Runs the two audit projections (<see cref="AuditLogProjection"/>, <see cref="HashChainProjection"/>) and keeps every
/// workspace's high-water mark, in place of Marten's async daemon, when <c>Registry:Audit:Worker</c> is on.
/// <para>
/// Why the registry has its own worker here: under per-workspace event partitions the daemon runs an agent per workspace
/// and projection, starts them one after another, and computes the marks with one statement over every workspace that
/// PostgreSQL plans against every partition (docs/design/workspaces.md §5 #8: 1–3 s per poll at 700 workspaces, the audit
/// minutes behind at 1,000). Marten 9.59–9.62 has no setting for a per-tenant or lazy poll. This worker reads, per poll,
/// each workspace's sequence (<c>pg_sequence_last_value</c>, no event read) against the marks it remembers (it is their only
/// writer while it leads), and reads events only of a workspace whose sequence moved, with the workspace as a constant so
/// PostgreSQL plans one partition. On by default (<c>Registry:Audit:Worker</c>); <c>false</c> hands the audit back to the daemon.
/// </para>
/// Exactly one node runs it: the holder of a PostgreSQL advisory lock, as the daemon's HotCold mode does; a node that
/// dies releases it with its connection and another takes over. Progress is kept in Marten's own rows
/// (<c>HighWaterMark:&lt;ws&gt;</c>, <c>AuditLog:All:&lt;ws&gt;</c>, <c>AuditChain:All:&lt;ws&gt;</c>), so time travel, the audit
/// health, verify and a later switch back to the daemon read the same numbers.
/// </summary>
public sealed class AuditWorker(IDocumentStore store, RegistryDatabase database, TimeTravel.TimeTravelOptions timeTravel,
    ILogger<AuditWorker> logger) : BackgroundService
{
    /// <summary>The advisory lock the leader holds (not the daemon's: the two never run together).</summary>
    public const long LockKey = 0x4553_5241_5544_4954; // "ESRAUDIT"

    /// <summary>Events read per workspace and statement; a workspace further behind is read again in the same poll.</summary>
    public const int BatchSize = 2_000;

    private readonly Dictionary<string, SettlementProbe> _earlier = new(StringComparer.Ordinal);
    private readonly AuditLogProjection _log = new();
    private readonly HashChainProjection _chain = new();
    private Dictionary<string, Type>? _types;

    private readonly SemaphoreSlim _polling = new(1, 1);

    /// <summary>
    /// Every workspace's marks as this worker last read or wrote them (null: read them from the progression rows before the
    /// next poll). While the worker holds the lock it is their only writer, so a poll reads the workspaces' sequences only.
    /// Whatever else writes those rows (a test's reset, a rebuild, an operator, a daemon left on by mistake) is caught three
    /// ways: <see cref="PauseAsync"/> and <see cref="Reload"/> drop them, every write of a mark or of the projections' progress
    /// first checks under a row lock that the row still holds what is remembered (else the marks are read again and
    /// nothing is written), and every <see cref="ReconcileAfter"/> the remembered marks are compared with the rows.
    /// </summary>
    private List<Marks>? _marks;
    private uint[] _sequences = [];
    private long _partitions;
    private DateTimeOffset _reconciled;
    private volatile bool _reload;
    // A partition registered before its sequence exists (Marten writes the partition rows first): looked for again soon.
    private bool _unsequenced;

    /// <summary>How long remembered marks go without being compared with the progression rows (a write checks them anyway).</summary>
    public static readonly TimeSpan ReconcileAfter = TimeSpan.FromSeconds(30);

    /// <summary>How soon the marks are read again while a registered workspace has no event sequence yet.</summary>
    private static readonly TimeSpan UnsequencedAfter = TimeSpan.FromSeconds(1);

    private sealed class Marks(string tenantId, WorkspaceId workspace, uint sequence)
    {
        public string TenantId { get; } = tenantId;
        public WorkspaceId Workspace { get; } = workspace;
        /// <summary>The oid of the workspace's event sequence (0: none yet).</summary>
        public uint Sequence { get; } = sequence;
        public long Mark { get; set; }
        public long Log { get; set; }
        public long Chain { get; set; }
        public bool SameAs(Marks other) => Mark == other.Mark && Log == other.Log && Chain == other.Chain;
    }

    /// <summary>
    /// Holds the worker between polls until the returned handle is disposed (a reset of the store's data must not meet a
    /// poll half-way); what it remembers of earlier polls is forgotten, and its marks are read again from the rows.
    /// </summary>
    public async Task<IAsyncDisposable> PauseAsync(CancellationToken ct = default)
    {
        await _polling.WaitAsync(ct);
        _earlier.Clear();
        _marks = null;
        return new Resume(_polling);
    }

    /// <summary>
    /// Reads the marks from the progression rows again before the next poll: called by whatever changes the audit's rows
    /// or progress beside the worker (a projection rebuild).
    /// </summary>
    public void Reload() => _reload = true;

    private sealed class Resume(SemaphoreSlim polling) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            polling.Release();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Whether this node holds the lock (tests and the health of a cluster read it).</summary>
    public bool IsLeader { get; private set; }

    /// <summary>Times this node took the lock (a test of a broken connection reads it).</summary>
    public int Leaderships { get; private set; }

    public override Task StartAsync(CancellationToken ct)
    {
        // With the worker on, Marten's daemon is off: an async projection the worker does not run would never run.
        var others = store.Options.Events.Projections()
            .Where(p => p.Lifecycle == JasperFx.Events.Projections.ProjectionLifecycle.Async)
            .Select(p => p.Name)
            .Where(name => name is not (AuditTrail.AuditLogProjectionName or AuditTrail.HashChainProjectionName))
            .ToList();
        if (others.Count > 0)
            throw new InvalidOperationException(
                $"Registry:Audit:Worker turns Marten's async daemon off, but async projection(s) {string.Join(", ", others)} need it.");
        return base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        // The lock lives as long as this connection: not pooled, so it is never handed back with the lock still held. Every
        // poll runs on it too: a pooled connection per poll meets a cold relation cache on each new physical connection (the
        // first polls of one took 240–380 ms at 1,000 workspaces, PostgreSQL opening every sequence), and a poll that
        // succeeds proves the lock's connection alive. A broken one fails the poll and is replaced, with the lock taken anew.
        var lockConnection = new NpgsqlConnectionStringBuilder(database.PooledConnectionString) { Pooling = false }.ConnectionString;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var leader = new NpgsqlConnection(lockConnection);
                await leader.OpenAsync(ct);
                while (!await TryLock(leader, ct)) await Task.Delay(timeTravel.HighWaterPoll * 4, ct);
                IsLeader = true;
                Leaderships++;
                logger.LogInformation("This node runs the audit projections (audit worker lock taken)");
                // Another node may have led meanwhile: what this one remembers is read again.
                await _polling.WaitAsync(ct);
                _earlier.Clear();
                _marks = null;
                _polling.Release();
                while (!ct.IsCancellationRequested)
                {
                    await _polling.WaitAsync(ct);
                    try { await PollAsync(leader, ct); }
                    finally { _polling.Release(); }
                    // The poll interval is kept, not stretched while nothing moves: a poll now costs 1.2–1.6 ms of
                    // PostgreSQL CPU at 1,000 workspaces (6.3–6.7 ms before; docs/workspaces.md "The audit worker"), about
                    // 0.6 % of a core at 250 ms, and a backoff would add its length to the audit lag of the first write after
                    // a quiet spell (verify, the audit health), which a nudge could shorten only on the node that took the
                    // write. Time travel's settle check does not wait for this mark: it is a head start, the check settles by its own probes.
                    await Task.Delay(timeTravel.HighWaterPoll, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                IsLeader = false;
                logger.LogError(ex, "The audit worker failed; it tries again on a new connection");
                try { await Task.Delay(TimeSpan.FromSeconds(1), ct); }
                catch (OperationCanceledException) { break; }
            }
        }
        IsLeader = false;
    }

    private static async Task<bool> TryLock(NpgsqlConnection leader, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock($1)", leader);
        command.Parameters.Add(new NpgsqlParameter { Value = LockKey });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Every workspace's marks from the progression rows, with its sequence's oid (the one statement that joins them), and
    /// the number of registered partitions in the same snapshot (a poll compares it with the count it reads).
    /// </summary>
    private static async Task<(List<Marks> Marks, long Partitions)> LoadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var schema = RegistryStore.Schema;
        var marks = new List<Marks>();
        long partitions = 0;
        await using var command = new NpgsqlCommand(
            $"""
             select p.partition_value,
                    coalesce(to_regclass(format('%I.%I', '{schema}', '{EventGaps.SequencePrefix}' || p.partition_suffix))::oid, 0),
                    coalesce(h.last_seq_id, 0), coalesce(l.last_seq_id, 0), coalesce(c.last_seq_id, 0)
             from {schema}.mt_tenant_partitions p
             left join {AuditTrail.ProgressionTable} h on h.name = 'HighWaterMark:' || p.partition_value
             left join {AuditTrail.ProgressionTable} l on l.name = '{AuditTrail.AuditLogProjectionName}:All:' || p.partition_value
             left join {AuditTrail.ProgressionTable} c on c.name = '{AuditTrail.HashChainProjectionName}:All:' || p.partition_value
             order by p.partition_value
             """, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            partitions++;
            var tenant = reader.GetString(0);
            // Only workspaces' tenants (a slug, or the platform): the tenant id is written into the event read as a literal.
            if (WorkspaceId.FromTenantId(tenant) is not { } workspace) continue;
            marks.Add(new Marks(tenant, workspace, reader.GetFieldValue<uint>(1))
            {
                Mark = reader.GetInt64(2), Log = reader.GetInt64(3), Chain = reader.GetInt64(4),
            });
        }
        return (marks, partitions);
    }

    private async Task RememberAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        (var fresh, _partitions) = await LoadAsync(connection, ct);
        if (_marks is not null)
        {
            var known = _marks.ToDictionary(m => m.TenantId, StringComparer.Ordinal);
            foreach (var changed in fresh.Where(f => known.TryGetValue(f.TenantId, out var k) && !k.SameAs(f)))
                logger.LogWarning("The audit progress of workspace {Workspace} was changed beside the audit worker; it goes on from the stored rows",
                    changed.TenantId);
        }
        _marks = fresh;
        _sequences = fresh.Where(m => m.Sequence != 0).Select(m => m.Sequence).ToArray();
        _unsequenced = _sequences.Length < fresh.Count;
        _reconciled = DateTimeOffset.UtcNow;
    }

    private sealed record Reading(DateTimeOffset Clock, DateTimeOffset? Oldest, long Partitions, Dictionary<uint, long> Allocated);

    /// <summary>
    /// Every workspace's sequence, then the clock, the oldest open transaction and the number of workspaces' partitions, in
    /// one round trip; no progression row is read (the marks are remembered) and the sequences are named by oid, not by a
    /// name PostgreSQL would have to resolve each poll. The sequences are read first, by a statement of their own: every
    /// number read was then drawn by a transaction that began before the clock was read, which is what
    /// <see cref="Settlement.SettledThrough"/> assumes. Read the other way round, a transaction beginning between the two
    /// (a moment that grows past the clock margin on a loaded machine) counted as begun after the reading, and the mark
    /// could pass its sequence before it committed: its event then never entered the chain.
    /// </summary>
    private async Task<Reading> ReadSequencesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select s, coalesce(pg_sequence_last_value(s), 0) from unnest($1::oid[]) s")
                {
                    Parameters = { new NpgsqlParameter { Value = _sequences, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid } },
                },
                new NpgsqlBatchCommand(
                    "select clock_timestamp(), (select min(xact_start) from pg_stat_activity where datname = current_database() " +
                    "and pid <> pg_backend_pid() and backend_type = 'client backend' and xact_start is not null), " +
                    $"(select count(*) from {RegistryStore.Schema}.mt_tenant_partitions)"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        var allocated = new Dictionary<uint, long>(_sequences.Length);
        while (await reader.ReadAsync(ct)) allocated[reader.GetFieldValue<uint>(0)] = reader.GetInt64(1);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        var clock = reader.GetFieldValue<DateTimeOffset>(0);
        DateTimeOffset? oldest = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1);
        var partitions = reader.GetInt64(2);
        return new Reading(clock, oldest, partitions, allocated);
    }

    /// <summary>One poll on the worker's connection: every workspace's sequence against its remembered marks, then the workspaces that moved.</summary>
    private async Task PollAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var since = DateTimeOffset.UtcNow - _reconciled;
        if (_reload || _marks is null || since > ReconcileAfter || _unsequenced && since > UnsequencedAfter)
        {
            _reload = false;
            await RememberAsync(connection, ct);
        }
        var reading = await ReadSequencesAsync(connection, ct);
        if (reading.Partitions != _partitions)
        {
            // A workspace was registered (or removed): its marks are read with everyone's, then its sequence.
            await RememberAsync(connection, ct);
            reading = await ReadSequencesAsync(connection, ct);
        }

        foreach (var workspace in _marks!)
        {
            // No event sequence yet (a registration under way): nothing can have been appended, and its marks stay as stored.
            if (workspace.Sequence == 0 || !reading.Allocated.TryGetValue(workspace.Sequence, out var allocated)) continue;
            if (allocated < workspace.Mark)
            {
                // The workspace's sequence is below its mark: its numbering restarted (the store's data was reset, or the
                // sequence came back from a crash below numbers that were handed out and never committed). Those numbers
                // will be drawn again, so the mark and the projections' progress go back to what is stored.
                await RestartAsync(connection, workspace, allocated, ct);
                _earlier.Remove(workspace.TenantId);
                continue;
            }
            // Nothing drawn past the mark and both projections there: no event of this workspace is read.
            if (allocated <= workspace.Mark && workspace.Log >= workspace.Mark && workspace.Chain >= workspace.Mark)
            {
                _earlier.Remove(workspace.TenantId);
                continue;
            }
            var now = new SettlementProbe(reading.Clock, workspace.Mark, Math.Max(workspace.Mark, allocated), reading.Oldest);
            var settled = _earlier.TryGetValue(workspace.TenantId, out var earlier) ? Settlement.SettledThrough(earlier, now) : workspace.Mark;
            _earlier[workspace.TenantId] = now;
            try
            {
                if (!await CatchUpAsync(connection, workspace, allocated, Math.Min(settled, now.Allocated), ct))
                {
                    // Its rows no longer hold what this worker wrote: nothing was written; every mark is read again.
                    logger.LogWarning("The audit progress of workspace {Workspace} was changed beside the audit worker; its marks are read again",
                        workspace.TenantId);
                    _earlier.Remove(workspace.TenantId);
                    _reload = true;
                    return;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && connection.State == System.Data.ConnectionState.Open)
            {
                // One workspace's fault (e.g. an event its chain cannot pass) must not hold up the others' audit. A broken
                // connection is not one workspace's fault: it fails the poll and the worker starts again on a new one.
                logger.LogWarning(ex, "The audit of workspace {Workspace} did not advance", workspace.TenantId);
            }
        }
    }

    /// <summary>Catches one workspace up; false when a progression row no longer held what this worker remembered (nothing written).</summary>
    private async Task<bool> CatchUpAsync(NpgsqlConnection connection, Marks workspace, long allocated, long settled, CancellationToken ct)
    {
        long mark = workspace.Mark, log = Math.Min(workspace.Log, mark), chain = Math.Min(workspace.Chain, mark);
        var markName = Settlement.HighWaterMarkName(workspace.Workspace);
        var logName = AuditProgress.Shard(AuditTrail.AuditLogProjectionName, workspace.Workspace);
        var chainName = AuditProgress.Shard(AuditTrail.HashChainProjectionName, workspace.Workspace);
        while (true)
        {
            var from = Math.Min(log, chain);
            var events = await ReadAsync(connection, workspace.TenantId, from, allocated, ct);
            var complete = events.Count < BatchSize;
            var next = AuditMark.Advance(mark, events.Where(e => e.Sequence > mark).Select(e => e.Sequence).ToList(), settled, complete);
            if (next > mark)
            {
                // The mark first, on its own: time travel settles by it, whatever becomes of the projections' batch.
                await using var transaction = await connection.BeginTransactionAsync(ct);
                if (!await HoldAsync(transaction, [(markName, workspace.Mark)], ct)) return false;
                await using (var command = new NpgsqlCommand($"select {RegistryStore.Schema}.mt_mark_event_progression($1, $2)", connection, transaction))
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = markName });
                    command.Parameters.Add(new NpgsqlParameter { Value = next });
                    await command.ExecuteNonQueryAsync(ct);
                }
                await transaction.CommitAsync(ct);
                workspace.Mark = mark = next;
            }
            // A read cut short by its limit covers the projections only as far as its last event.
            var upTo = complete ? mark : Math.Min(mark, events[^1].Sequence);
            if (upTo <= from) return true;

            // Both projections' rows and their progress in one transaction, as the daemon commits a batch.
            await using (var transaction = await connection.BeginTransactionAsync(ct))
            {
                if (!await HoldAsync(transaction, [(logName, workspace.Log), (chainName, workspace.Chain)], ct)) return false;
                var options = SessionOptions.ForTransaction(transaction, shouldAutoCommit: false);
                options.TenantId = workspace.TenantId;
                await using (var session = store.LightweightSession(options))
                {
                    await _log.ApplyAsync(session, events.Where(e => e.Sequence > log && e.Sequence <= upTo && e.Known).Select(e => e.Event).ToList(), ct);
                    await _chain.ApplyAsync(session, events.Where(e => e.Sequence > chain && e.Sequence <= upTo).Select(e => e.Event).ToList(), ct);
                    foreach (var name in new[] { logName, chainName })
                        session.QueueSqlCommand($"select {RegistryStore.Schema}.mt_mark_event_progression(?, ?)", name, upTo);
                    await session.SaveChangesAsync(ct);
                }
                await transaction.CommitAsync(ct);
            }
            workspace.Log = workspace.Chain = log = chain = upTo;
            if (complete) return true;
        }
    }

    /// <summary>
    /// Locks the progression rows about to be written, in the caller's transaction, and says whether each still holds what
    /// this worker remembers (a missing row reads 0). Marten's upsert cannot say so; without this check a row another writer
    /// moved would be overwritten from remembered marks, and events between the two skipped or projected twice.
    /// </summary>
    private static async Task<bool> HoldAsync(NpgsqlTransaction transaction, (string Name, long Expected)[] rows, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select name, coalesce(last_seq_id, 0) from {AuditTrail.ProgressionTable} where name = any($1) for update",
            transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Name).ToArray() });
        var stored = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) stored[reader.GetString(0)] = reader.GetInt64(1);
        return rows.All(r => stored.GetValueOrDefault(r.Name) == r.Expected);
    }

    private async Task RestartAsync(NpgsqlConnection connection, Marks workspace, long allocated, CancellationToken ct)
    {
        logger.LogWarning("The event sequence of workspace {Workspace} is below its high-water mark; the audit marks restart at {Sequence}",
            workspace.TenantId, allocated);
        await using var command = new NpgsqlCommand(
            $"update {AuditTrail.ProgressionTable} set last_seq_id = least(last_seq_id, $2) where name = any($1)", connection);
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = new[]
            {
                Settlement.HighWaterMarkName(workspace.Workspace), AuditProgress.Shard(AuditTrail.AuditLogProjectionName, workspace.Workspace),
                AuditProgress.Shard(AuditTrail.HashChainProjectionName, workspace.Workspace),
            },
        });
        command.Parameters.Add(new NpgsqlParameter { Value = allocated });
        await command.ExecuteNonQueryAsync(ct);
        workspace.Mark = Math.Min(workspace.Mark, allocated);
        workspace.Log = Math.Min(workspace.Log, allocated);
        workspace.Chain = Math.Min(workspace.Chain, allocated);
    }

    private sealed record Read(long Sequence, IEvent Event, bool Known);

    /// <summary>The workspace's events in (from, to], in order, with the workspace as a literal: PostgreSQL plans its partition only.</summary>
    private async Task<List<Read>> ReadAsync(NpgsqlConnection connection, string tenant, long from, long to, CancellationToken ct)
    {
        var types = _types ??= store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventTypeName, t => t.EventType);
        var serializer = store.Options.Serializer();
        var registry = (IEventRegistry)store.Options.Events;
        var literal = "'" + tenant.Replace("'", "''") + "'";
        var events = new List<Read>();
        await using var command = new NpgsqlCommand(
            "select seq_id, id, stream_id, version, data::text, type, timestamp, user_name, correlation_id, causation_id, headers::text " +
            $"from {AuditTrail.EventsTable} where tenant_id = {literal} and seq_id > $1 and seq_id <= $2 order by seq_id limit {BatchSize}", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = from });
        command.Parameters.Add(new NpgsqlParameter { Value = to });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var typeName = reader.GetString(5);
            var known = types.TryGetValue(typeName, out var type);
            var body = known ? serializer.FromJson(type!, new MemoryStream(Encoding.UTF8.GetBytes(reader.GetString(4)))) : new UnknownEvent(typeName);
            var e = registry.BuildEvent(body);
            e.Sequence = reader.GetInt64(0);
            e.Id = reader.GetGuid(1);
            e.StreamId = reader.GetGuid(2);
            e.Version = reader.GetInt64(3);
            e.Timestamp = new DateTimeOffset(DateTime.SpecifyKind(reader.GetFieldValue<DateTime>(6), DateTimeKind.Utc));
            e.TenantId = tenant;
            e.UserName = reader.IsDBNull(7) ? null : reader.GetString(7);
            e.CorrelationId = reader.IsDBNull(8) ? null : reader.GetString(8);
            e.CausationId = reader.IsDBNull(9) ? null : reader.GetString(9);
            if (!reader.IsDBNull(10))
                e.Headers = serializer.FromJson<Dictionary<string, object>>(new MemoryStream(Encoding.UTF8.GetBytes(reader.GetString(10))));
            events.Add(new Read(e.Sequence, e, known));
        }
        return events;
    }

    /// <summary>An event of a type this build does not know (Marten's gap placeholders): chained from its stored row, not logged.</summary>
    private sealed record UnknownEvent(string Type);
}
