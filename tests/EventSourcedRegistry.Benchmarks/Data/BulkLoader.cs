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
/// product's own writer), the deployment-history intervals and the registry-state rows (the product's COPY writers) — derived in memory from the same events with
/// the product's fold functions. The as-of scenario checks a sample of the result against the API's own replay.
/// Everything Marten holds is written into one workspace (its tenant: event partition, sequence, documents).
/// </summary>
public sealed class BulkLoader(DocumentStore store, string connectionString, int snapshotEvery, WorkspaceId workspace)
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
        // Assigns each event its stream version and the workspace's next sequence, then COPYs mt_streams and mt_events.
        await store.BulkInsertEventsAsync(workspace.TenantId, actions, 10_000, ct);

        var documents = new List<object>(streams.Count * 4);
        var snapshots = new List<ModelSnapshot>();
        var intervals = new List<IntervalRow>();
        var states = new List<RegistryStateRow>();
        long events = 0, last = 0;
        foreach (var (stream, action) in streams.Zip(actions))
        {
            var log = action.Events;
            ModelView? view = null;
            // The seeded events carry no reason header: the intervals' reasons are the events' own.
            var fold = new IntervalFold();
            var stateRows = new RegistryStateRows(stream.Id);
            foreach (var e in log)
            {
                view = ModelSnapshots.Fold(view, stream.Id, e);
                if (stateRows.After(e.Data, view, e.Sequence) is { } row) states.Add(row);
                fold.Apply(e.Data, e.Sequence, e.Timestamp.UtcDateTime, e.UserName, null);
                last = Math.Max(last, e.Sequence);
            }
            intervals.AddRange(fold.Rows);
            events += log.Count;
            documents.Add(view!);
            documents.Add(new ModelNameIndex { Id = InputRules.NormalizeName(stream.Name), ModelId = stream.Id });
            documents.AddRange(StorePosition.VersionsAt(log).Values);
            snapshots.AddRange(ModelSnapshots.Of(stream.Id, log, snapshotEvery));
        }
        await store.BulkInsertDocumentsAsync(workspace.TenantId, documents, BulkInsertMode.InsertsOnly, 5_000, ct);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await ModelSnapshots.CopyAsync(connection, RegistryStore.Schema, workspace, snapshots, ct);
        await DeploymentHistory.CopyAsync(connection, DeploymentHistory.QualifiedTable(RegistryStore.Schema), workspace, intervals.OrderBy(r => r.EnteredSeq), ct);
        await RegistryStates.CopyAsync(connection, RegistryStates.QualifiedTable(RegistryStore.Schema), workspace, states, ct);
        return (events, last);
    }
}
