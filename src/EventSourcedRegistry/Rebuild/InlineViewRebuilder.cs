using System.Threading.Channels;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;
using NpgsqlTypes;

namespace EventSourcedRegistry.Rebuild;

/// <summary>What one rebuild did, and every difference it found between the live view and the rebuilt one.</summary>
public sealed record RebuildReport(string View, long Models, long Events, long Differences, IReadOnlyList<string> Examples,
    TimeSpan Elapsed)
{
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : Events;
}

/// <summary>
/// Rebuilds the inline views (model view, version views, deployment history) and the audit log from the events
/// in one pass while the API keeps serving. Models are taken in batches of about <see cref="BatchEvents"/> events:
/// their events are read in one query, folded in memory with the domain's fold functions (views, interval pairs,
/// audit rows), and bulk-copied into temporary tables — a model's audit rows only when their digest differs from the
/// live rows' (<see cref="AuditDigest"/>). Then one short transaction per batch locks the batch's
/// stream rows (<c>select … for update</c> on <c>mt_streams</c>, the row every append updates), leaves out every
/// model whose stream has moved on since its events were read (it is read and folded again afterwards), compares
/// the rebuilt rows with the live ones in SQL and writes only the rows that differ. A consistent store is
/// therefore read, compared and left untouched; a damaged row is counted, named and repaired.
/// Two readers and two writers work side by side, each writer on its own connection with its own scratch tables.
/// </summary>
/// <remarks>
/// Why the lock keeps concurrent writes safe: an append to a model updates its <c>mt_streams</c> row before it
/// writes the model's views, in the same transaction. While a batch holds the row, such an append waits; once the
/// batch commits, the append applies its event to the rebuilt view. An append that committed first has raised the
/// stream version, so the batch sees that its fold is stale and skips the model — stale rebuilt rows never
/// overwrite a newer write.
/// </remarks>
/// <remarks>
/// One workspace at a time: every read and write of Marten's tables (events, streams, documents, progression) binds the
/// workspace's tenant id, so a rebuild sees and repairs only that workspace's rows.
/// </remarks>
public sealed class InlineViewRebuilder(IDocumentStore store, NpgsqlDataSource data, WorkspaceId workspace,
    int snapshotEvery = ModelSnapshots.DefaultInterval)
{
    private readonly WorkspaceId _workspace = workspace;
    private readonly string _tenant = workspace.TenantId;

    public const string ModelViews = "ModelView";
    public const string VersionViews = "ModelVersionView";
    public const string Intervals = "DeploymentHistory";
    public const string Requests = "TransitionRequestsView";
    public const string AuditLog = AuditTrail.AuditLogProjectionName;

    /// <summary>The views kept inline, in the appending transaction.</summary>
    public static readonly IReadOnlyList<string> InlineViews = [ModelViews, VersionViews, Intervals, Requests];

    /// <summary>Every view this rebuilder writes: the inline views and the (async) audit log.</summary>
    public static readonly IReadOnlyList<string> Views = [ModelViews, VersionViews, Intervals, Requests, AuditLog];

    /// <summary>About this many events per batch (a batch is at least one whole model).</summary>
    public int BatchEvents { get; init; } = 20_000;
    private const int MaxModelsPerBatch = 5_000;
    private const int Folders = 2;
    private const int MaxExamples = 20;
    private const int MaxRetryRounds = 20;

    private static readonly string Events = $"{RegistryStore.Schema}.mt_events";

    /// <summary>
    /// The rebuild's sessions: no JIT (PostgreSQL compiled the batches' queries with LLVM, each connection loading it anew,
    /// for queries that run in milliseconds) and room to sort a batch's events in memory (they spilled to disk at 4 MB).
    /// Session settings, undone when the pooled connection is returned.
    /// </summary>
    private const string ScanSettings = "set jit = off; set work_mem = '64MB'";

    /// <summary>
    /// A writer's session also joins only by nested loops: its comparisons join a batch's scratch rows (thousands, never
    /// analyzed) to a view table (millions) by the view's key, and PostgreSQL chose hash joins over a scan of the whole
    /// view table for some of them (the version views' comparison took 30 of a 53-second rebuild).
    /// </summary>
    private const string WriterSettings = ScanSettings + "; set enable_hashjoin = off; set enable_mergejoin = off";
    private static readonly string Streams = $"{RegistryStore.Schema}.mt_streams";
    private static readonly string ModelTable = $"{RegistryStore.Schema}.mt_doc_modelview";
    private static readonly string VersionTable = $"{RegistryStore.Schema}.mt_doc_modelversionview";
    private static readonly string RequestsTable = $"{RegistryStore.Schema}.mt_doc_transitionrequestsview";
    private static readonly string HistoryTable = DeploymentHistory.QualifiedTable(RegistryStore.Schema);
    private static readonly string StatesTable = RegistryStates.QualifiedTable(RegistryStore.Schema);
    private const string NewVersion = "md5(random()::text || clock_timestamp()::text)::uuid";

    // Why documents are copied and compared as jsonb, not digested like the audit rows: a digest of a live document would
    // be taken over its text, which PostgreSQL prints from jsonb at every read (jsonb_out: members ordered by key length,
    // numbers in numeric's spelling), and the fold's side would have to spell the same text byte for byte; comparing the
    // copied jsonb with the live jsonb prints nothing. A batch holds one model view and a few version views per model
    // against one audit row per event, so the digests pay where they are.
    // Why the documents' rows are written here, Marten's columns (mt_version, mt_dotnet_type, mt_last_modified)
    // included, and not by Marten's bulk insert: a batch writes only the rows that differ, inside the transaction that
    // holds its models' stream rows, and Marten's BulkInsert*Async open a connection and transaction of their own (the
    // one overload that enlists takes an ambient System.Transactions transaction, for the default tenant only), so
    // their rows could land without the lock or beside a rolled-back batch.
    // mt_version of an inserted document: Marten keeps a projected document's revision there (a number; the
    // stream version for a model view) or, for a plain document, a random uuid. Updates leave it as it is.
    private readonly Dictionary<string, string> _versionOnInsert = new()
    {
        [ModelTable] = NewVersion,
        [VersionTable] = NewVersion,
        [RequestsTable] = NewVersion,
    };
    private const string AuditColumns =
        "seq_id, timestamp, model_id, model_name, version, event_type, actor, reason, correlation_id, causation_id, summary";
    private const string AuditValues =
        "timestamp, model_id, model_name, version, event_type, actor, reason, correlation_id, causation_id, summary";

    /// <summary>
    /// Called inside each batch's transaction, after its views are written, with the models written (their
    /// stream rows locked). The hook for further per-model derived data that must agree with the views
    /// (for example model-view snapshots for time travel).
    /// </summary>
    public Func<NpgsqlConnection, IReadOnlyList<Guid>, CancellationToken, Task>? AfterBatch { get; init; }

    /// <summary>How many models' audit rows were copied and compared row by row (their digests differed, or their stream moved on).</summary>
    public long AuditModelsCompared => Interlocked.Read(ref _auditCompared);
    private long _auditCompared;

    /// <summary>Called after a batch is read and folded, before its transaction starts (tests race a write in here).</summary>
    public Func<IReadOnlyList<Guid>, CancellationToken, Task>? BeforeLock { get; init; }


    public async Task<IReadOnlyList<RebuildReport>> RebuildAsync(IReadOnlyCollection<string> views, bool apply,
        IProgress<long>? progress, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var want = new Wanted(views.Contains(ModelViews), views.Contains(VersionViews), views.Contains(Intervals), views.Contains(AuditLog),
            views.Contains(Requests));
        var counters = views.ToDictionary(v => v, _ => new Counter());
        var reader = new EventReader(store, want, snapshotEvery, _tenant);
        long models = 0, events = 0;

        await using var connection = await OpenWriterAsync(ct);
        await using (var columns = new NpgsqlCommand(
                         "select table_schema || '.' || table_name, data_type from information_schema.columns " +
                         "where column_name = 'mt_version' and table_schema || '.' || table_name = any($1)", connection))
        {
            columns.Parameters.Add(new NpgsqlParameter { Value = new[] { ModelTable, VersionTable, RequestsTable } });
            await using var types = await columns.ExecuteReaderAsync(ct);
            while (await types.ReadAsync(ct))
                if (types.GetString(1) is "bigint" or "integer")
                    _versionOnInsert[types.GetString(0)] = types.GetString(0) switch
                    {
                        var t when t == ModelTable => "(r.data ->> 'revision')::bigint",
                        var t when t == RequestsTable => "r.revision",
                        _ => "0",
                    };
        }
        var auditProgress = want.Audit ? await AuditLogProgress(connection, _workspace, ct) : 0;

        var stale = new List<Guid>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var batches = Channel.CreateBounded<Batch>(new BoundedChannelOptions(2) { SingleReader = true });
        var idBatches = Channel.CreateBounded<List<Guid>>(new BoundedChannelOptions(2) { SingleWriter = true });
        var lister = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in ModelIdBatches(stop.Token)) await idBatches.Writer.WriteAsync(batch, stop.Token);
                idBatches.Writer.Complete();
            }
            catch (Exception ex)
            {
                idBatches.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);
        // Models are independent: two readers fold batches side by side while the writer compares and writes.
        var folders = Enumerable.Range(0, Folders).Select(_ => Task.Run(async () =>
        {
            await foreach (var batch in idBatches.Reader.ReadAllAsync(stop.Token))
                await batches.Writer.WriteAsync(await reader.ReadAsync(data, batch, stop.Token), stop.Token);
        }, CancellationToken.None)).ToArray();
        var producer = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(folders.Append(lister));
                batches.Writer.Complete();
            }
            catch (Exception ex)
            {
                batches.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        // Two writers, each on its own connection with its own scratch tables: one PostgreSQL backend comparing and writing
        // was the rebuild's bottleneck (a core busy, the other a quarter idle). Batches hold disjoint models, so the writers
        // lock disjoint stream rows.
        await using var second = await OpenWriterAsync(ct);
        var sync = new object();
        var writers = new[] { connection, second }.Select(writer => Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in batches.Reader.ReadAllAsync(stop.Token))
                {
                    var skipped = await WriteAsync(writer, batch, want, apply, auditProgress, counters, stop.Token);
                    lock (sync)
                    {
                        stale.AddRange(skipped);
                        models += batch.ModelStreams - skipped.Count;
                        events += batch.Events;
                        progress?.Report(events);
                    }
                }
            }
            catch
            {
                // The other writer and the readers stop too; the first failure is what the rebuild reports.
                await stop.CancelAsync();
                throw;
            }
        }, CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(writers);
            ct.ThrowIfCancellationRequested();
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
        }
        await DropScratchTables(second, ct);

        // Models written to while their batch was read: read them again, until none moved on in between.
        for (var round = 0; stale.Count > 0 && round < MaxRetryRounds; round++)
        {
            var again = stale.ToList();
            stale.Clear();
            foreach (var ids in again.Chunk(MaxModelsPerBatch))
            {
                var batch = await reader.ReadAsync(data, ids.ToList(), ct);
                var skipped = await WriteAsync(connection, batch, want, apply, auditProgress, counters, ct);
                stale.AddRange(skipped);
                models += batch.ModelStreams - skipped.Count;
            }
        }
        if (stale.Count > 0)
            foreach (var counter in counters.Values)
                counter.Examples.Add($"{stale.Count} model(s) changed in every one of {MaxRetryRounds} attempts and were left as the live writes made them");

        await DropScratchTables(connection, ct);

        return views.Select(v => new RebuildReport(v, models, events, counters[v].Differences, counters[v].Examples, started.Elapsed)).ToList();
    }

    private readonly record struct Wanted(bool Models, bool Versions, bool Intervals, bool Audit, bool Requests)
    {
        public bool AnyView => Models || Versions || Intervals || Requests;
    }

    private sealed class Counter
    {
        public long Differences { get; set; }
        public List<string> Examples { get; } = [];

        /// <summary>Called by both writers.</summary>
        public void Add(string example)
        {
            lock (Examples)
            {
                Differences++;
                if (Examples.Count < MaxExamples) Examples.Add(example);
            }
        }
    }

    /// <summary>What one batch of models folds to; only the rows of the requested views are filled.</summary>
    private sealed class Batch
    {
        public required List<Guid> Models { get; init; }
        public Dictionary<Guid, long> Versions { get; } = [];
        public long Events { get; set; }
        public int ModelStreams { get; set; }
        public List<(Guid Id, string Json, string NormalizedName)> ModelDocs { get; } = [];
        public List<(string Id, Guid ModelId, string Json)> VersionDocs { get; } = [];
        public List<IntervalRow> Intervals { get; } = [];
        /// <summary>The registry-state rows (with <see cref="Intervals"/>: they change when a held interval opens or closes).</summary>
        public List<RegistryStateRow> States { get; } = [];
        public List<AuditEntry> Audit { get; } = [];
        public List<(string Key, Guid ModelId, long Sequence)> Names { get; } = [];
        /// <summary>Each model's <see cref="AuditDigest"/> (with <see cref="Audit"/>).</summary>
        public Dictionary<Guid, string> AuditDigests { get; } = [];
        /// <summary>The model views' time-travel snapshots (with <see cref="ModelViews"/>), every interval-th stream version.</summary>
        public List<ModelSnapshot> Snapshots { get; } = [];
        public List<(Guid Id, string Json, long Revision)> RequestDocs { get; } = [];
    }

    /// <summary>Reads a batch of models' events in one query (each stream in version order) and folds them.</summary>
    private sealed class EventReader
    {
        private readonly Dictionary<string, Type> _types;
        private readonly Marten.ISerializer _serializer;
        private readonly Wanted _want;
        private readonly int _snapshotEvery;

        private readonly string _tenant;

        public EventReader(IDocumentStore store, Wanted want, int snapshotEvery, string tenant)
        {
            _snapshotEvery = snapshotEvery;
            _tenant = tenant;
            _types = store.Options.Events.AllKnownEventTypes().ToDictionary(t => t.EventTypeName, t => t.EventType);
            _serializer = store.Options.Serializer();
            _want = want;
        }

        public async Task<Batch> ReadAsync(NpgsqlDataSource data, List<Guid> models, CancellationToken ct)
        {
            var batch = new Batch { Models = models };
            await using var connection = await data.OpenConnectionAsync(ct);
            await using var read = new NpgsqlBatch(connection);
            foreach (var setting in ScanSettings.Split("; ")) read.BatchCommands.Add(new NpgsqlBatchCommand(setting));
            // One index scan per model, joined laterally: with "stream_id = any($1)" PostgreSQL planned a batch whose models
            // its statistics call frequent (the bulk-loaded as-of set) as a parallel scan of the whole events table.
            var command = new NpgsqlBatchCommand(
                "select e.stream_id, e.version, e.seq_id, e.type, e.data::text, e.timestamp, e.user_name, e.correlation_id, e.causation_id, " +
                $"e.headers ->> '{AuditLogProjection.ReasonHeader}' from unnest($1::uuid[]) with ordinality m(id, n) cross join lateral " +
                $"(select * from {Events} x where x.tenant_id = $2 and x.stream_id = m.id) e order by m.n, e.version");
            command.Parameters.Add(new NpgsqlParameter { Value = models.ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = _tenant });
            read.BatchCommands.Add(command);
            await using var reader = await read.ExecuteReaderAsync(ct);

            var stream = Guid.Empty;
            var model = new ModelFold(this, batch, Guid.Empty);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetGuid(0);
                if (id != stream)
                {
                    model.Finish();
                    stream = id;
                    model = new ModelFold(this, batch, id);
                }
                batch.Events++;
                var version = reader.GetInt64(1);
                batch.Versions[id] = version;
                var payload = _types.TryGetValue(reader.GetString(3), out var type)
                    ? _serializer.FromJson(type, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(reader.GetString(4))))
                    : null;
                model.Apply(payload, version, reader.GetInt64(2), reader.GetFieldValue<DateTime>(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9));
            }
            model.Finish();
            // A model whose stream has no events here yet (an append still in flight) is compared next round.
            return batch;
        }

        /// <summary>One model's fold: its view, its version views, its intervals and its audit rows.</summary>
        private sealed class ModelFold(EventReader owner, Batch batch, Guid id)
        {
            private bool _isModel;
            private bool _first = true;
            private ModelView? _view;
            private readonly Dictionary<string, ModelVersionView> _versions = [];
            private readonly IntervalFold _intervals = new();
            private readonly RegistryStateRows _stateRows = new(id);
            private readonly List<RegistryStateRow> _states = [];
            private readonly List<AuditEntry> _audit = [];
            private readonly List<(string, Guid, long)> _names = [];
            private readonly List<ModelSnapshot> _snapshots = [];
            private TransitionRequestsView? _requests;
            private long _version;
            private string? _name;

            public void Apply(object? data, long version, long sequence, DateTime timestamp, string? actor, string? correlation,
                string? causation, string? headerReason)
            {
                // Only model streams: Marten keeps placeholder ("tombstone") events of rolled-back appends in a stream of its own.
                if (_first) _isModel = data is ModelRegistered;
                _first = false;
                if (!_isModel || data is null) return;
                var want = owner._want;
                // One fold for the model view and the registry-state rows (which are the view's stages, aliases and deployments).
                if (want.Models || want.Intervals)
                {
                    _view = ModelView.Fold(_view, data);
                    _view.Id = id;
                    _view.Revision = version;
                }
                // The same snapshots the inline ModelSnapshotProjection writes: the view after every interval-th event.
                if (want.Models && version % owner._snapshotEvery == 0) _snapshots.Add(new ModelSnapshot(id, version, sequence, _view!.Copy()));
                _version = version;
                // A model that never had a transition request has no requests document, live or rebuilt.
                if (want.Requests && (_requests is not null || data is TransitionRequested))
                    _requests = data is ModelDeleted ? null : TransitionRequestsView.Fold(_requests, id, data);
                if (want.Versions)
                    foreach (var key in ModelVersionView.KeysOf(data))
                        if (ModelVersionView.Fold(_versions.GetValueOrDefault(key), key, data) is { } view) _versions[key] = view;
                        else _versions.Remove(key); // deleted, as the inline projection deletes its document
                if (want.Intervals)
                {
                    _intervals.Apply(data, sequence, timestamp, actor, headerReason);
                    if (_stateRows.After(data, _view!, sequence) is { } row) _states.Add(row);
                }
                if (want.Audit)
                {
                    foreach (var name in AuditSummary.NamesIn(data)) _names.Add((InputRules.NormalizeName(name), id, sequence));
                    if (AuditSummary.NameAfter(data) is { } current) _name = current;
                    _audit.Add(new AuditEntry(sequence, new DateTimeOffset(DateTime.SpecifyKind(timestamp, DateTimeKind.Utc)), id, _name,
                        AuditSummary.VersionOf(data), data.GetType().Name, actor, AuditSummary.ReasonOf(data) ?? headerReason,
                        correlation, causation, AuditSummary.Describe(data)));
                }
            }

            public void Finish()
            {
                if (!_isModel) return;
                batch.ModelStreams++;
                if (owner._want.Models && _view is { Deleted: false }) batch.ModelDocs.Add((id, owner._serializer.ToJson(_view), _view.NormalizedName));
                foreach (var view in _versions.Values) batch.VersionDocs.Add((view.Id, view.ModelId, owner._serializer.ToJson(view)));
                batch.Intervals.AddRange(_intervals.Rows);
                batch.States.AddRange(_states);
                batch.Audit.AddRange(_audit);
                batch.Names.AddRange(_names);
                if (owner._want.Audit) batch.AuditDigests[id] = AuditDigest.Of(_audit, _names.Select(n => n.Item1));
                batch.Snapshots.AddRange(_snapshots);
                if (_requests is not null) batch.RequestDocs.Add((id, owner._serializer.ToJson(_requests), _version));
            }
        }
    }

    /// <summary>A writer's connection: the rebuild's session settings and its own scratch tables (temporary, so per session).</summary>
    private async Task<NpgsqlConnection> OpenWriterAsync(CancellationToken ct)
    {
        var connection = await data.OpenConnectionAsync(ct);
        try
        {
            await using (var settings = new NpgsqlCommand(WriterSettings, connection)) await settings.ExecuteNonQueryAsync(ct);
            await CreateScratchTables(connection, ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task DropScratchTables(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var drop = new NpgsqlCommand(
            "drop table if exists rebuild_model, rebuild_version, rebuild_interval, rebuild_audit, rebuild_name, rebuild_request, rebuild_snapshot", connection);
        await drop.ExecuteNonQueryAsync(ct);
    }

    private static async Task CreateScratchTables(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"""
             create temp table if not exists rebuild_model (id uuid primary key, data jsonb not null, normalized_name text);
             create temp table if not exists rebuild_version (id text primary key, model_id uuid not null, data jsonb not null);
             create temp table if not exists rebuild_interval (like {HistoryTable} including defaults);
             alter table rebuild_interval drop column if exists id;
             create temp table if not exists rebuild_audit (like {AuditTrail.AuditLogTable});
             alter table rebuild_audit drop column if exists {AuditTrail.TenantColumn};
             create index if not exists rebuild_audit_seq on rebuild_audit (seq_id);
             create temp table if not exists rebuild_name (name_key text, model_id uuid, seq_id bigint);
             create temp table if not exists rebuild_request (id uuid primary key, data jsonb not null, revision bigint not null);
             create temp table if not exists rebuild_snapshot (tenant_id text not null, model_id uuid, version bigint, seq_id bigint not null,
               data jsonb not null, primary key (model_id, version));
             """, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<long> AuditLogProgress(NpgsqlConnection connection, WorkspaceId workspace, CancellationToken ct) =>
        (await AuditProgress.ReadAsync(connection, workspace, ct)).AuditLogThrough;

    /// <summary>Compares and writes one batch; returns the models left out because their stream moved on.</summary>
    private async Task<List<Guid>> WriteAsync(NpgsqlConnection connection, Batch batch, Wanted want, bool apply, long auditProgress,
        Dictionary<string, Counter> counters, CancellationToken ct)
    {
        await Execute(connection, null, "truncate rebuild_model, rebuild_version, rebuild_interval, rebuild_audit, rebuild_name, rebuild_request, rebuild_snapshot", ct);
        // Audit rows (one per event: most of what a batch copies) are copied and compared only for the models whose live
        // rows' digest differs from the fold's, or whose stream has moved on since its events were read.
        var auditModels = want.Audit ? await AuditToCompare(connection, batch, ct) : [];
        Interlocked.Add(ref _auditCompared, auditModels.Count);
        await Copy(connection, batch, want, _workspace, auditModels, ct);

        if (BeforeLock is not null) await BeforeLock(batch.Models, ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Lock the batch's stream rows (appends to these models wait) and find the models whose stream moved on.
        var live = new Dictionary<Guid, long>(batch.Models.Count);
        await using (var command = new NpgsqlCommand(
                         $"select id, version from {Streams} where tenant_id = $2 and id = any($1) order by id" + (apply ? " for update" : ""), connection, tx))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Models.ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = _tenant });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) live[reader.GetGuid(0)] = reader.GetInt64(1);
        }
        var stale = batch.Models.Where(m => live.TryGetValue(m, out var v) && v != batch.Versions.GetValueOrDefault(m)).ToList();
        var current = batch.Models.Except(stale).ToArray();
        if (stale.Count > 0)
            await Execute(connection, tx,
                "delete from rebuild_model where id = any($1); delete from rebuild_version where model_id = any($1); " +
                "delete from rebuild_interval where model_id = any($1); delete from rebuild_audit where model_id = any($1); " +
                "delete from rebuild_name where model_id = any($1); delete from rebuild_request where id = any($1); delete from rebuild_snapshot where model_id = any($1)", ct, stale.ToArray());

        if (want.Models)
        {
            var counter = counters[ModelViews];
            var differing = new List<Guid>();
            var found = new List<(Guid Id, bool Missing)>();
            await Rows(connection, tx,
                $"select r.id, l.id is null from rebuild_model r left join {ModelTable} l on l.tenant_id = $1 and l.id = r.id where l.data is distinct from r.data",
                r => found.Add((r.GetGuid(0), r.GetBoolean(1))), ct, _tenant);
            var listed = await ListingEveryVersion(connection, tx, batch, found.Where(f => !f.Missing).Select(f => f.Id), ct);
            foreach (var (id, missing) in found.Where(f => !listed.Contains(f.Id)))
            {
                differing.Add(id);
                counter.Add($"model {id}: {(missing ? "missing" : "differs")}");
            }
            // Only rows that differ are written: a consistent store is compared, not rewritten.
            if (apply && differing.Count > 0)
                await Execute(connection, tx,
                    $"""
                     update {ModelTable} l set data = r.data, normalized_name = r.normalized_name, mt_last_modified = transaction_timestamp()
                     from rebuild_model r where l.tenant_id = $3 and l.id = r.id and r.id = any($1);
                     insert into {ModelTable} (tenant_id, id, data, normalized_name, mt_dotnet_type, mt_last_modified, mt_version)
                     select $3, r.id, r.data, r.normalized_name, $2, transaction_timestamp(), {_versionOnInsert[ModelTable]}
                     from rebuild_model r where r.id = any($1) and not exists (select 1 from {ModelTable} l where l.tenant_id = $3 and l.id = r.id)
                     """, ct, differing.ToArray(), typeof(ModelView).FullName!, _tenant);
        }

        if (want.Models)
        {
            // Snapshots come from the views' own fold; like the views, a model's are compared and rewritten only when they differ.
            var counter = counters[ModelViews];
            var snapshots = ModelSnapshots.QualifiedTable(RegistryStore.Schema);
            var damaged = new List<Guid>();
            await Rows(connection, tx,
                $"""
                 with live as (select model_id, version, seq_id, data from {snapshots} where tenant_id = $2 and model_id = any($1)),
                      rebuilt as (select model_id, version, seq_id, data from rebuild_snapshot),
                      differing as ((select * from live except all select * from rebuilt) union all (select * from rebuilt except all select * from live))
                 select distinct model_id from differing
                 """,
                r =>
                {
                    damaged.Add(r.GetGuid(0));
                    counter.Add($"time-travel snapshots of model {r.GetGuid(0)}: differ");
                }, ct, current, _tenant);
            if (apply && damaged.Count > 0)
                await Execute(connection, tx,
                    $"""
                     delete from {snapshots} where tenant_id = $2 and model_id = any($1);
                     insert into {snapshots} (tenant_id, model_id, version, seq_id, data)
                     select tenant_id, model_id, version, seq_id, data from rebuild_snapshot where tenant_id = $2 and model_id = any($1)
                     """, ct, damaged.ToArray(), _tenant);
        }

        if (want.Requests)
        {
            var counter = counters[Requests];
            var differing = new List<Guid>();
            await Rows(connection, tx,
                $"select r.id, l.id is null from rebuild_request r left join {RequestsTable} l on l.tenant_id = $1 and l.id = r.id where l.data is distinct from r.data",
                r =>
                {
                    differing.Add(r.GetGuid(0));
                    counter.Add($"requests of model {r.GetGuid(0)}: {(r.GetBoolean(1) ? "missing" : "differs")}");
                }, ct, _tenant);
            if (apply && differing.Count > 0)
                await Execute(connection, tx,
                    $"""
                     update {RequestsTable} l set data = r.data, mt_last_modified = transaction_timestamp()
                     from rebuild_request r where l.tenant_id = $3 and l.id = r.id and r.id = any($1);
                     insert into {RequestsTable} (tenant_id, id, data, mt_dotnet_type, mt_last_modified, mt_version)
                     select $3, r.id, r.data, $2, transaction_timestamp(), {_versionOnInsert[RequestsTable]}
                     from rebuild_request r where r.id = any($1) and not exists (select 1 from {RequestsTable} l where l.tenant_id = $3 and l.id = r.id)
                     """, ct, differing.ToArray(), typeof(TransitionRequestsView).FullName!, _tenant);
        }

        if (want.Versions)
        {
            var counter = counters[VersionViews];
            var differing = new List<string>();
            var extra = new List<string>();
            await Rows(connection, tx,
                $"""
                 select r.id, case when l.id is null then 'missing' else 'differs' end
                 from rebuild_version r left join {VersionTable} l on l.tenant_id = $2 and l.id = r.id where l.data is distinct from r.data
                 union all
                 select l.id, 'not in the events' from {VersionTable} l
                 where l.tenant_id = $2 and l.model_id = any($1) and not exists (select 1 from rebuild_version r where r.id = l.id)
                 """,
                r =>
                {
                    (r.GetString(1) == "not in the events" ? extra : differing).Add(r.GetString(0));
                    counter.Add($"version {r.GetString(0)}: {r.GetString(1)}");
                }, ct, current, _tenant);
            if (apply && differing.Count > 0)
                await Execute(connection, tx,
                    $"""
                     update {VersionTable} l set data = r.data, model_id = r.model_id, mt_last_modified = transaction_timestamp()
                     from rebuild_version r where l.tenant_id = $3 and l.id = r.id and r.id = any($1);
                     insert into {VersionTable} (tenant_id, id, data, model_id, mt_dotnet_type, mt_last_modified, mt_version)
                     select $3, r.id, r.data, r.model_id, $2, transaction_timestamp(), {_versionOnInsert[VersionTable]}
                     from rebuild_version r where r.id = any($1) and not exists (select 1 from {VersionTable} l where l.tenant_id = $3 and l.id = r.id)
                     """, ct, differing.ToArray(), typeof(ModelVersionView).FullName!, _tenant);
            if (apply && extra.Count > 0)
                await Execute(connection, tx, $"delete from {VersionTable} where tenant_id = $2 and id = any($1)", ct, extra.ToArray(), _tenant);
        }

        if (want.Intervals)
        {
            var counter = counters[Intervals];
            var damaged = new HashSet<Guid>();
            await Rows(connection, tx,
                $"""
                 with live as (select {DeploymentHistory.Columns} from {HistoryTable} where tenant_id = $2 and model_id = any($1)),
                      rebuilt as (select {DeploymentHistory.Columns} from rebuild_interval),
                      gone as (select * from live except all select * from rebuilt),
                      added as (select * from rebuilt except all select * from live)
                 select 'only live', model_id, kind, subject, version, entered_seq from gone
                 union all
                 select 'only rebuilt', model_id, kind, subject, version, entered_seq from added
                 """,
                r =>
                {
                    damaged.Add(r.GetGuid(1));
                    counter.Add($"interval {r.GetGuid(1)}|{r.GetString(2)}|{r.GetString(3)}|{(r.IsDBNull(4) ? "" : r.GetInt32(4))}|{r.GetInt64(5)}: {r.GetString(0)}");
                }, ct, current, _tenant);
            if (apply && damaged.Count > 0)
                await Execute(connection, tx,
                    $"""
                     delete from {HistoryTable} where tenant_id = $2 and model_id = any($1);
                     insert into {HistoryTable} (tenant_id, {DeploymentHistory.Columns})
                     select tenant_id, {DeploymentHistory.Columns} from rebuild_interval where tenant_id = $2 and model_id = any($1) order by model_id, entered_seq
                     """, ct, damaged.ToArray(), _tenant);

            // The registry-state rows, counted under the intervals they are derived from: one text value per row, so
            // the live rows are read into memory and compared there, and only a differing model's rows are rewritten.
            var rebuiltStates = batch.States.Where(r => !stale.Contains(r.ModelId)).ToLookup(r => r.ModelId);
            var liveStates = new Dictionary<Guid, List<(long Sequence, string State)>>();
            await Rows(connection, tx,
                $"select model_id, entered_seq, state from {StatesTable} where tenant_id = $2 and model_id = any($1) order by model_id, entered_seq",
                r =>
                {
                    var id = r.GetGuid(0);
                    if (!liveStates.TryGetValue(id, out var rows)) liveStates[id] = rows = [];
                    rows.Add((r.GetInt64(1), r.GetString(2)));
                }, ct, current, _tenant);
            var damagedStates = new List<Guid>();
            foreach (var model in current)
            {
                var differences = RegistryStateDifferences(liveStates.GetValueOrDefault(model) ?? [], rebuiltStates[model]);
                if (differences.Count == 0) continue;
                damagedStates.Add(model);
                foreach (var (side, sequence) in differences) counter.Add($"registry state {model}|{sequence}: {side}");
            }
            if (apply && damagedStates.Count > 0)
            {
                await Execute(connection, tx, $"delete from {StatesTable} where tenant_id = $2 and model_id = any($1)", ct, damagedStates.ToArray(),
                    _tenant);
                await RegistryStates.CopyAsync(connection, StatesTable, _workspace, damagedStates.SelectMany(m => rebuiltStates[m]), ct);
            }
        }

        if (want.Audit)
        {
            // Rows the audit projection has not reached yet are filled in, not counted as differences.
            var counter = counters[AuditLog];
            var differing = new List<long>();
            var extra = new List<long>();
            await Rows(connection, tx,
                $"""
                 select r.seq_id, case when l.seq_id is null then 'missing' else 'differs' end, r.seq_id <= $2
                 from rebuild_audit r left join {AuditTrail.AuditLogTable} l on l.tenant_id = $3 and l.seq_id = r.seq_id
                 where l.seq_id is null or ({Prefixed("l", AuditValues)}) is distinct from ({Prefixed("r", AuditValues)})
                 union all
                 select l.seq_id, 'not in the events', true from {AuditTrail.AuditLogTable} l
                 where l.tenant_id = $3 and l.model_id = any($1) and not exists (select 1 from rebuild_audit r where r.seq_id = l.seq_id)
                   and not exists (select 1 from {Events} e where e.tenant_id = $3 and e.seq_id = l.seq_id)
                 """,
                r =>
                {
                    (r.GetString(1) == "not in the events" ? extra : differing).Add(r.GetInt64(0));
                    if (r.GetBoolean(2)) counter.Add($"audit row {r.GetInt64(0)}: {r.GetString(1)}");
                }, ct, current.Where(auditModels.Contains).ToArray(), auditProgress, _tenant);
            if (apply && differing.Count > 0)
                await Execute(connection, tx,
                    $"""
                     update {AuditTrail.AuditLogTable} l set ({AuditValues}) = ({Prefixed("r", AuditValues)})
                     from rebuild_audit r where l.tenant_id = $2 and l.seq_id = r.seq_id and r.seq_id = any($1);
                     insert into {AuditTrail.AuditLogTable} (tenant_id, {AuditColumns})
                     select $2, {AuditColumns} from rebuild_audit r where r.seq_id = any($1)
                     on conflict (tenant_id, seq_id) do nothing
                     """, ct, differing.ToArray(), _tenant);
            if (apply && extra.Count > 0)
                await Execute(connection, tx, $"delete from {AuditTrail.AuditLogTable} where tenant_id = $2 and seq_id = any($1)", ct,
                    extra.ToArray(), _tenant);
            if (apply)
                await Execute(connection, tx,
                    $"""
                     insert into {AuditTrail.ModelNamesTable} (tenant_id, name_key, model_id, seq_id)
                     select distinct on (name_key, model_id) $1, name_key, model_id, seq_id from rebuild_name order by name_key, model_id, seq_id
                     on conflict do nothing
                     """, ct, _tenant);
        }

        if (apply && AfterBatch is not null && current.Length > 0) await AfterBatch(connection, current, ct);
        if (apply) await tx.CommitAsync(ct);
        else await tx.RollbackAsync(ct);
        return stale;
    }

    /// <summary>
    /// Of the models whose live view is not the rebuilt one, those whose view is the rebuilt one with every version of a stage
    /// listed, as views written before runs (<see cref="VersionRuns"/>) spell it: exactly equal as jsonb, so no difference,
    /// and left as they are (the model's next command writes the runs).
    /// </summary>
    private async Task<HashSet<Guid>> ListingEveryVersion(NpgsqlConnection connection, NpgsqlTransaction tx, Batch batch, IEnumerable<Guid> models,
        CancellationToken ct)
    {
        var wanted = models.ToHashSet();
        var same = new HashSet<Guid>();
        if (wanted.Count == 0) return same;
        var docs = batch.ModelDocs.Where(d => wanted.Contains(d.Id)).ToList();
        await Rows(connection, tx,
            $"select p.id from unnest($1::uuid[], $2::text[]) as p(id, data) join {ModelTable} l on l.tenant_id = $3 and l.id = p.id where l.data = p.data::jsonb",
            r => same.Add(r.GetGuid(0)), ct, docs.Select(d => d.Id).ToArray(), docs.Select(d => VersionRuns.Listed(d.Json)).ToArray(), _tenant);
        return same;
    }

    private static string Prefixed(string alias, string columns) =>
        string.Join(", ", columns.Split(", ").Select(c => $"{alias}.{c}"));

    /// <summary>The batch's models whose audit rows must be compared row by row: all but those the digests show equal.</summary>
    private async Task<HashSet<Guid>> AuditToCompare(NpgsqlConnection connection, Batch batch, CancellationToken ct)
    {
        var compare = batch.Models.ToHashSet();
        await using var command = new NpgsqlCommand(AuditDigest.LiveSql(Streams), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Models.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = _tenant });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var id = reader.GetGuid(0);
            if (batch.Versions.TryGetValue(id, out var version) && version == reader.GetInt64(1)
                && batch.AuditDigests.TryGetValue(id, out var digest) && digest == reader.GetString(2))
                compare.Remove(id);
        }
        return compare;
    }

    private static async Task Copy(NpgsqlConnection connection, Batch batch, Wanted want, WorkspaceId workspace, IReadOnlySet<Guid> auditModels,
        CancellationToken ct)
    {
        if (want.Models && batch.ModelDocs.Count > 0)
        {
            await using var copy = await connection.BeginBinaryImportAsync("copy rebuild_model (id, data, normalized_name) from stdin (format binary)", ct);
            foreach (var (id, json, name) in batch.ModelDocs)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(json, NpgsqlDbType.Jsonb, ct);
                await copy.WriteAsync(name, NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }
        if (want.Models && batch.Snapshots.Count > 0)
            await ModelSnapshots.CopyIntoAsync(connection, "rebuild_snapshot", workspace, batch.Snapshots, ct);
        if (want.Requests && batch.RequestDocs.Count > 0)
        {
            await using var copy = await connection.BeginBinaryImportAsync("copy rebuild_request (id, data, revision) from stdin (format binary)", ct);
            foreach (var (id, json, revision) in batch.RequestDocs)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(id, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(json, NpgsqlDbType.Jsonb, ct);
                await copy.WriteAsync(revision, NpgsqlDbType.Bigint, ct);
            }
            await copy.CompleteAsync(ct);
        }
        if (want.Versions && batch.VersionDocs.Count > 0)
        {
            await using var copy = await connection.BeginBinaryImportAsync("copy rebuild_version (id, model_id, data) from stdin (format binary)", ct);
            foreach (var (id, model, json) in batch.VersionDocs)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(id, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(model, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(json, NpgsqlDbType.Jsonb, ct);
            }
            await copy.CompleteAsync(ct);
        }
        if (want.Intervals && batch.Intervals.Count > 0)
            await DeploymentHistory.CopyAsync(connection, "rebuild_interval", workspace, batch.Intervals, ct);
        if (want.Audit && auditModels.Count > 0)
        {
            await using (var copy = await connection.BeginBinaryImportAsync($"copy rebuild_audit ({AuditColumns}) from stdin (format binary)", ct))
            {
                foreach (var row in batch.Audit)
                {
                    if (!auditModels.Contains(row.ModelId)) continue;
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(row.Sequence, NpgsqlDbType.Bigint, ct);
                    await copy.WriteAsync(row.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                    await copy.WriteAsync(row.ModelId, NpgsqlDbType.Uuid, ct);
                    await Nullable(copy, row.ModelName, NpgsqlDbType.Text, ct);
                    await Nullable(copy, row.Version, NpgsqlDbType.Integer, ct);
                    await copy.WriteAsync(row.EventType, NpgsqlDbType.Text, ct);
                    await Nullable(copy, row.Actor, NpgsqlDbType.Text, ct);
                    await Nullable(copy, row.Reason, NpgsqlDbType.Text, ct);
                    await Nullable(copy, row.CorrelationId, NpgsqlDbType.Text, ct);
                    await Nullable(copy, row.CausationId, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(row.Summary, NpgsqlDbType.Text, ct);
                }
                await copy.CompleteAsync(ct);
            }
            if (batch.Names.Count > 0)
            {
                await using var copy = await connection.BeginBinaryImportAsync("copy rebuild_name (name_key, model_id, seq_id) from stdin (format binary)", ct);
                foreach (var (key, model, sequence) in batch.Names)
                {
                    if (!auditModels.Contains(model)) continue;
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(key, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(model, NpgsqlDbType.Uuid, ct);
                    await copy.WriteAsync(sequence, NpgsqlDbType.Bigint, ct);
                }
                await copy.CompleteAsync(ct);
            }
        }
    }

    private static Task Nullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct) where T : class =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, type, ct);

    private static Task Nullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken ct) where T : struct =>
        value is { } v ? copy.WriteAsync(v, type, ct) : copy.WriteNullAsync(ct);

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken ct, params object[] parameters)
    {
        // Several statements, one round trip; each gets every parameter (positional parameters need a batch).
        await using var batch = new NpgsqlBatch(connection, tx);
        foreach (var statement in sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var command = new NpgsqlBatchCommand(statement);
            foreach (var p in parameters) command.Parameters.Add(new NpgsqlParameter { Value = p });
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The rows only one side has, as the SQL comparisons count them (a row whose state differs counts on both sides).</summary>
    private static List<(string Side, long Sequence)> RegistryStateDifferences(List<(long Sequence, string State)> live,
        IEnumerable<RegistryStateRow> rebuilt)
    {
        var wanted = rebuilt.ToDictionary(r => r.EnteredSeq, r => r.State);
        var differences = new List<(string, long)>();
        foreach (var (sequence, state) in live)
        {
            if (wanted.Remove(sequence, out var expected) && expected == state) continue;
            differences.Add(("only live", sequence));
            if (expected is not null) differences.Add(("only rebuilt", sequence));
        }
        differences.AddRange(wanted.Keys.Select(sequence => ("only rebuilt", sequence)));
        return differences;
    }

    private static async Task Rows(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, Action<NpgsqlDataReader> row,
        CancellationToken ct, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var p in parameters) command.Parameters.Add(new NpgsqlParameter { Value = p });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) row(reader);
    }

    /// <summary>Model ids in id order, cut into batches of about <see cref="BatchEvents"/> events.</summary>
    private async IAsyncEnumerable<List<Guid>> ModelIdBatches([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var after = Guid.Empty;
        var batch = new List<Guid>();
        long events = 0;
        while (true)
        {
            var page = new List<(Guid Id, long Version)>(MaxModelsPerBatch);
            await using (var command = data.CreateCommand(
                             $"select id, version from {Streams} where tenant_id = $2 and id > $1 order by id limit {MaxModelsPerBatch}"))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = after });
                command.Parameters.Add(new NpgsqlParameter { Value = _tenant });
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) page.Add((reader.GetGuid(0), reader.GetInt64(1)));
            }
            if (page.Count == 0) break;
            after = page[^1].Id;
            foreach (var (id, version) in page)
            {
                batch.Add(id);
                events += version;
                if (events < BatchEvents && batch.Count < MaxModelsPerBatch) continue;
                yield return batch;
                batch = [];
                events = 0;
            }
        }
        if (batch.Count > 0) yield return batch;
    }
}
