using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using JasperFx.Events;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Core;

namespace EventSourcedRegistry.Benchmarks.Data;

/// <summary>
/// Loads many streams at COPY speed: Marten's <c>BulkInsertEventsAsync</c> (binary COPY, no inline projections) for
/// the events, then the inline views those events would have produced — model views, version views and the name
/// index (<c>BulkInsertDocumentsAsync</c>), the model-view snapshots (<see cref="ModelSnapshots.CopyAsync"/>, the
/// product's own writer), the deployment-history intervals and the registry-state rows (COPY) — derived in memory from the same events with
/// the product's fold functions. The as-of scenario checks a sample of the result against the API's own replay.
/// </summary>
public sealed class BulkLoader(DocumentStore store, string connectionString, int snapshotEvery)
{
    public const string Actor = "bench:seed";

    /// <summary>Appends the streams and their views; returns the number of events and the highest sequence written.</summary>
    public async Task<(long Events, long LastSequence)> LoadAsync(IReadOnlyList<SeedStream> streams, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var registry = store.Options.Events as IEventRegistry
            ?? throw new InvalidOperationException("Marten's event options no longer build events; the bulk loader needs another way.");
        var actions = new List<StreamAction>(streams.Count);
        foreach (var stream in streams)
        {
            var action = StreamAction.Start(registry, stream.Id, stream.Events.ToArray());
            action.AggregateType = typeof(ModelView);
            foreach (var e in action.Events)
            {
                e.Timestamp = now;
                e.UserName = Actor;
                e.CorrelationId = "bench-seed";
                e.CausationId = "bench-seed";
            }
            actions.Add(action);
        }
        // Assigns each event its stream version and global sequence, then COPYs mt_streams and mt_events.
        await store.BulkInsertEventsAsync(actions, 10_000, ct);

        var documents = new List<object>(streams.Count * 4);
        var snapshots = new List<ModelSnapshot>();
        var intervals = new IntervalRows();
        var states = new List<RegistryStateRow>();
        long events = 0, last = 0;
        foreach (var (stream, action) in streams.Zip(actions))
        {
            var log = action.Events;
            ModelView? view = null;
            foreach (var e in log)
            {
                view = ModelSnapshots.Fold(view, stream.Id, e);
                intervals.Apply(e);
                last = Math.Max(last, e.Sequence);
            }
            events += log.Count;
            documents.Add(view!);
            documents.Add(new ModelNameIndex { Id = InputRules.NormalizeName(stream.Name), ModelId = stream.Id });
            documents.AddRange(StorePosition.VersionsAt(log).Values);
            snapshots.AddRange(ModelSnapshots.Of(stream.Id, log, snapshotEvery));
            states.AddRange(RegistryStates.Of(stream.Id, log.Select(e => (e.Data, e.Sequence))));
        }
        await store.BulkInsertDocumentsAsync(documents, BulkInsertMode.InsertsOnly, 5_000, ct);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await ModelSnapshots.CopyAsync(connection, RegistryStore.Schema, snapshots, ct);
        await intervals.CopyAsync(connection, ct);
        await RegistryStates.CopyAsync(connection, RegistryStates.QualifiedTable(RegistryStore.Schema), states, ct);
        return (events, last);
    }

    /// <summary>
    /// The deployment-history rows the inline <see cref="DeploymentHistoryProjection"/> writes for these events, built in
    /// memory with the same open/close rules (sequence, time and actor from the event; reason from the event, the
    /// seeded events carry no reason header).
    /// </summary>
    private sealed class IntervalRows
    {
        private sealed class Row
        {
            public Guid ModelId;
            public string Kind = "", Subject = "";
            public string? Target, EnteredReason, LeftReason;
            public int? Version;
            public long EnteredSeq;
            public long? LeftSeq;
            public DateTimeOffset EnteredAt;
            public DateTimeOffset? LeftAt;
        }

        private readonly List<Row> _rows = [];
        private readonly Dictionary<(Guid, string, string, string?), List<Row>> _open = [];

        public void Apply(IEvent e)
        {
            const string Stage = DeploymentHistory.Kinds.Stage, Alias = DeploymentHistory.Kinds.Alias,
                Deployment = DeploymentHistory.Kinds.Deployment, Name = DeploymentHistory.Kinds.Name, Archived = DeploymentHistory.Kinds.Archived;
            switch (e.Data)
            {
                case ModelRegistered r: Open(e, r.ModelId, Name, r.Name, null, null, null); break;
                case ModelRenamed r:
                    Close(e, r.ModelId, Name, r.OldName, null, null, null);
                    Open(e, r.ModelId, Name, r.NewName, null, null, null);
                    break;
                case ModelArchived a: Open(e, a.ModelId, Archived, Archived, null, null, null); break;
                case ModelRestored r: Close(e, r.ModelId, Archived, Archived, null, null, null); break;
                case ModelVersionRegistered v: Open(e, v.ModelId, Stage, v.Stage, null, v.Version, null); break;
                case ModelVersionStageTransitioned t:
                    Close(e, t.ModelId, Stage, t.FromStage, null, t.Version, t.Reason);
                    Open(e, t.ModelId, Stage, t.ToStage, null, t.Version, t.Reason);
                    break;
                case ModelAliasAssigned a:
                    if (a.PreviousVersion is not null) Close(e, a.ModelId, Alias, a.Alias, null, null, null);
                    Open(e, a.ModelId, Alias, a.Alias, null, a.Version, null);
                    break;
                case ModelAliasRemoved a: Close(e, a.ModelId, Alias, a.Alias, null, null, null); break;
                case ModelVersionDeployed d:
                    if (d.PreviousVersion is not null) Close(e, d.ModelId, Deployment, d.Environment, d.Target, null, null);
                    Open(e, d.ModelId, Deployment, d.Environment, d.Target, d.Version, null);
                    break;
                case ModelVersionUndeployed u: Close(e, u.ModelId, Deployment, u.Environment, u.Target, u.Version, null); break;
            }
        }

        private void Open(IEvent e, Guid model, string kind, string subject, string? target, int? version, string? reason)
        {
            var row = new Row
            {
                ModelId = model, Kind = kind, Subject = subject, Target = target, Version = version,
                EnteredSeq = e.Sequence, EnteredAt = e.Timestamp, EnteredReason = reason,
            };
            _rows.Add(row);
            var key = (model, kind, subject, target);
            if (!_open.TryGetValue(key, out var open)) _open[key] = open = [];
            open.Add(row);
        }

        private void Close(IEvent e, Guid model, string kind, string subject, string? target, int? version, string? reason)
        {
            if (!_open.TryGetValue((model, kind, subject, target), out var open)) return;
            foreach (var row in open.Where(r => version is null || r.Version == version).ToList())
            {
                row.LeftSeq = e.Sequence;
                row.LeftAt = e.Timestamp;
                row.LeftReason = reason;
                open.Remove(row);
            }
        }

        public async Task CopyAsync(NpgsqlConnection connection, CancellationToken ct)
        {
            await using var writer = await connection.BeginBinaryImportAsync(
                $"copy {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} (model_id, kind, subject, target, version, entered_seq, " +
                "entered_at, entered_by, entered_reason, left_seq, left_at, left_by, left_reason) from stdin (format binary)", ct);
            foreach (var r in _rows.OrderBy(r => r.EnteredSeq))
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(r.ModelId, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(r.Kind, NpgsqlDbType.Text, ct);
                await writer.WriteAsync(r.Subject, NpgsqlDbType.Text, ct);
                await Nullable(writer, r.Target, NpgsqlDbType.Text, ct);
                await Nullable(writer, r.Version, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(r.EnteredSeq, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(r.EnteredAt, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(Actor, NpgsqlDbType.Text, ct);
                await Nullable(writer, r.EnteredReason, NpgsqlDbType.Text, ct);
                await Nullable(writer, r.LeftSeq, NpgsqlDbType.Bigint, ct);
                await Nullable(writer, r.LeftAt, NpgsqlDbType.TimestampTz, ct);
                await Nullable(writer, r.LeftSeq is null ? null : Actor, NpgsqlDbType.Text, ct);
                await Nullable(writer, r.LeftReason, NpgsqlDbType.Text, ct);
            }
            await writer.CompleteAsync(ct);
        }

        private static Task Nullable(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken ct) =>
            value is null ? writer.WriteNullAsync(ct) : writer.WriteAsync(value, type, ct);

        private static Task Nullable(NpgsqlBinaryImporter writer, int? value, NpgsqlDbType type, CancellationToken ct) =>
            value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);

        private static Task Nullable(NpgsqlBinaryImporter writer, long? value, NpgsqlDbType type, CancellationToken ct) =>
            value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);

        private static Task Nullable(NpgsqlBinaryImporter writer, DateTimeOffset? value, NpgsqlDbType type, CancellationToken ct) =>
            value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);
    }
}
