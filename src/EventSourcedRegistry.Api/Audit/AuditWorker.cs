using System.Text;
using EventSourcedRegistry.Api.Hosting;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
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
/// each workspace's sequence (<c>pg_sequence_last_value</c>, no event read) against its marks, and reads events only of a
/// workspace whose sequence moved, with the workspace as a constant so PostgreSQL plans one partition.
/// </para>
/// Exactly one node runs it: the holder of a PostgreSQL advisory lock, as the daemon's HotCold mode does; a node that
/// dies releases it with its connection and another takes over. Progress is kept in Marten's own rows
/// (<c>HighWaterMark:&lt;ws&gt;</c>, <c>AuditLog:All:&lt;ws&gt;</c>, <c>AuditChain:All:&lt;ws&gt;</c>), so time travel, the audit
/// health, verify and a later switch back to the daemon read the same numbers.
/// </summary>
public sealed class AuditWorker(IDocumentStore store, RegistryDatabase database, NpgsqlDataSource data, TimeTravel.TimeTravelOptions timeTravel,
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
    /// Holds the worker between polls until the returned handle is disposed (a reset of the store's data must not meet a
    /// poll half-way); what it remembers of earlier polls is forgotten.
    /// </summary>
    public async Task<IAsyncDisposable> PauseAsync(CancellationToken ct = default)
    {
        await _polling.WaitAsync(ct);
        _earlier.Clear();
        return new Resume(_polling);
    }

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
        // The lock lives as long as this connection: not pooled, so it is never handed back with the lock still held.
        var lockConnection = new NpgsqlConnectionStringBuilder(database.PooledConnectionString) { Pooling = false }.ConnectionString;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var leader = new NpgsqlConnection(lockConnection);
                await leader.OpenAsync(ct);
                while (!await TryLock(leader, ct)) await Task.Delay(timeTravel.HighWaterPoll * 4, ct);
                IsLeader = true;
                logger.LogInformation("This node runs the audit projections (audit worker lock taken)");
                _earlier.Clear();
                while (!ct.IsCancellationRequested)
                {
                    await _polling.WaitAsync(ct);
                    try { await PollAsync(data, ct); }
                    finally { _polling.Release(); }
                    // The lock is only as good as its connection: a broken one is found here, before the next poll.
                    await using (var alive = new NpgsqlCommand("select 1", leader)) await alive.ExecuteScalarAsync(ct);
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
                logger.LogError(ex, "The audit worker failed; it tries again");
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

    private sealed record Workspace(string TenantId, long Allocated, long Mark, long Log, long Chain);

    /// <summary>One poll: every workspace's sequence and marks in one statement, then the workspaces that moved.</summary>
    public async Task PollAsync(NpgsqlDataSource data, CancellationToken ct)
    {
        var workspaces = new List<Workspace>();
        DateTimeOffset clock;
        DateTimeOffset? oldest;
        var schema = RegistryStore.Schema;
        await using (var command = data.CreateCommand(
                         $"""
                          with probe as materialized (
                            select clock_timestamp() as clock,
                                   (select min(xact_start) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
                                    and backend_type = 'client backend' and xact_start is not null) as oldest)
                          select p.partition_value,
                                 coalesce(pg_sequence_last_value(to_regclass(format('%I.%I', '{schema}', '{EventGaps.SequencePrefix}' || p.partition_suffix))), 0),
                                 coalesce(h.last_seq_id, 0), coalesce(l.last_seq_id, 0), coalesce(c.last_seq_id, 0), probe.clock, probe.oldest
                          from {schema}.mt_tenant_partitions p cross join probe
                          left join {AuditTrail.ProgressionTable} h on h.name = 'HighWaterMark:' || p.partition_value
                          left join {AuditTrail.ProgressionTable} l on l.name = '{AuditTrail.AuditLogProjectionName}:All:' || p.partition_value
                          left join {AuditTrail.ProgressionTable} c on c.name = '{AuditTrail.HashChainProjectionName}:All:' || p.partition_value
                          """))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            clock = DateTimeOffset.MinValue;
            oldest = null;
            while (await reader.ReadAsync(ct))
            {
                workspaces.Add(new Workspace(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
                clock = reader.GetFieldValue<DateTimeOffset>(5);
                oldest = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6);
            }
        }

        foreach (var workspace in workspaces)
        {
            // Only workspaces' tenants (a slug, or the platform): the tenant id is written into the event read as a literal.
            if (WorkspaceId.FromTenantId(workspace.TenantId) is null) continue;
            if (workspace.Allocated < workspace.Mark)
            {
                // The workspace's sequence is below its mark: its numbering restarted (the store's data was reset, or the
                // sequence came back from a crash below numbers that were handed out and never committed). Those numbers
                // will be drawn again, so the mark and the projections' progress go back to what is stored.
                await RestartAsync(data, workspace.TenantId, workspace.Allocated, ct);
                _earlier.Remove(workspace.TenantId);
                continue;
            }
            // Nothing drawn past the mark and both projections there: no event of this workspace is read.
            if (workspace.Allocated <= workspace.Mark && workspace.Log >= workspace.Mark && workspace.Chain >= workspace.Mark)
            {
                _earlier.Remove(workspace.TenantId);
                continue;
            }
            var now = new SettlementProbe(clock, workspace.Mark, Math.Max(workspace.Mark, workspace.Allocated), oldest);
            var settled = _earlier.TryGetValue(workspace.TenantId, out var earlier) ? Settlement.SettledThrough(earlier, now) : workspace.Mark;
            _earlier[workspace.TenantId] = now;
            try
            {
                await CatchUpAsync(data, workspace, Math.Min(settled, now.Allocated), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One workspace's fault (e.g. an event its chain cannot pass) must not hold up the others' audit.
                logger.LogWarning(ex, "The audit of workspace {Workspace} did not advance", workspace.TenantId);
            }
        }
    }

    private async Task CatchUpAsync(NpgsqlDataSource data, Workspace workspace, long settled, CancellationToken ct)
    {
        long mark = workspace.Mark, log = Math.Min(workspace.Log, mark), chain = Math.Min(workspace.Chain, mark);
        while (true)
        {
            var from = Math.Min(log, chain);
            var events = await ReadAsync(data, workspace.TenantId, from, workspace.Allocated, ct);
            var complete = events.Count < BatchSize;
            var next = AuditMark.Advance(mark, events.Where(e => e.Sequence > mark).Select(e => e.Sequence).ToList(), settled, complete);
            if (next > mark)
            {
                // The mark first, on its own: time travel settles by it, whatever becomes of the projections' batch.
                await using var command = data.CreateCommand($"select {RegistryStore.Schema}.mt_mark_event_progression($1, $2)");
                command.Parameters.Add(new NpgsqlParameter { Value = Settlement.HighWaterMarkName(WorkspaceId.FromTenantId(workspace.TenantId)!) });
                command.Parameters.Add(new NpgsqlParameter { Value = next });
                await command.ExecuteNonQueryAsync(ct);
                mark = next;
            }
            // A read cut short by its limit covers the projections only as far as its last event.
            var upTo = complete ? mark : Math.Min(mark, events[^1].Sequence);
            if (upTo <= from) return;

            // Both projections' rows and their progress in one transaction, as the daemon commits a batch.
            await using (var session = store.LightweightSession(workspace.TenantId))
            {
                await _log.ApplyAsync(session, events.Where(e => e.Sequence > log && e.Sequence <= upTo && e.Known).Select(e => e.Event).ToList(), ct);
                await _chain.ApplyAsync(session, events.Where(e => e.Sequence > chain && e.Sequence <= upTo).Select(e => e.Event).ToList(), ct);
                foreach (var name in new[] { AuditTrail.AuditLogProjectionName, AuditTrail.HashChainProjectionName })
                    session.QueueSqlCommand($"select {RegistryStore.Schema}.mt_mark_event_progression(?, ?)",
                        AuditProgress.Shard(name, WorkspaceId.FromTenantId(workspace.TenantId)!), upTo);
                await session.SaveChangesAsync(ct);
            }
            log = chain = upTo;
            if (complete) return;
        }
    }

    private async Task RestartAsync(NpgsqlDataSource data, string tenant, long allocated, CancellationToken ct)
    {
        var workspace = WorkspaceId.FromTenantId(tenant)!;
        logger.LogWarning("The event sequence of workspace {Workspace} is below its high-water mark; the audit marks restart at {Sequence}", tenant, allocated);
        await using var command = data.CreateCommand(
            $"update {AuditTrail.ProgressionTable} set last_seq_id = least(last_seq_id, $2) where name = any($1)");
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = new[]
            {
                Settlement.HighWaterMarkName(workspace), AuditProgress.Shard(AuditTrail.AuditLogProjectionName, workspace),
                AuditProgress.Shard(AuditTrail.HashChainProjectionName, workspace),
            },
        });
        command.Parameters.Add(new NpgsqlParameter { Value = allocated });
        await command.ExecuteNonQueryAsync(ct);
    }

    private sealed record Read(long Sequence, IEvent Event, bool Known);

    /// <summary>The workspace's events in (from, to], in order, with the workspace as a literal: PostgreSQL plans its partition only.</summary>
    private async Task<List<Read>> ReadAsync(NpgsqlDataSource data, string tenant, long from, long to, CancellationToken ct)
    {
        var types = _types ??= store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventTypeName, t => t.EventType);
        var serializer = store.Options.Serializer();
        var registry = (IEventRegistry)store.Options.Events;
        var literal = "'" + tenant.Replace("'", "''") + "'";
        var events = new List<Read>();
        await using var command = data.CreateCommand(
            "select seq_id, id, stream_id, version, data::text, type, timestamp, user_name, correlation_id, causation_id, headers::text " +
            $"from {AuditTrail.EventsTable} where tenant_id = {literal} and seq_id > $1 and seq_id <= $2 order by seq_id limit {BatchSize}");
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
