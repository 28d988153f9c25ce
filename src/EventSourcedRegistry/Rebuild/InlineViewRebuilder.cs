using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using JasperFx.Events;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Rebuild;

/// <summary>What one rebuild did, and every difference it found between the live view and the rebuilt one.</summary>
public sealed record RebuildReport(string View, long Models, long Events, long Differences, IReadOnlyList<string> Examples,
    TimeSpan Elapsed)
{
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : Events;
}

/// <summary>
/// Rebuilds the inline views (model view, version views, deployment history) from the events while the API keeps
/// serving: a batch of models at a time, each batch one transaction that overwrites their documents and swaps their
/// interval rows, so a reader sees either the old or the new rows of a model, never none. Before each batch is
/// written, the live views are compared with the rebuilt ones and every difference is counted and reported.
/// </summary>
public sealed class InlineViewRebuilder(IDocumentStore store, NpgsqlDataSource data,
    int snapshotEvery = ModelSnapshots.DefaultInterval)
{
    public const string ModelViews = "ModelView";
    public const string VersionViews = "ModelVersionView";
    public const string Intervals = "DeploymentHistory";
    public const string Requests = "TransitionRequestsView";
    public static readonly IReadOnlyList<string> Views = [ModelViews, VersionViews, Intervals, Requests];

    private const int BatchSize = 200;
    private const int MaxExamples = 20;
    private static readonly JsonSerializerOptions Compare = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<RebuildReport>> RebuildAsync(IReadOnlyCollection<string> views, bool apply,
        IProgress<long>? progress, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var counters = views.ToDictionary(v => v, _ => new Counter());
        long models = 0, events = 0;
        var projection = new DeploymentHistoryProjection(RegistryStore.Schema);
        var table = DeploymentHistory.QualifiedTable(RegistryStore.Schema);

        await foreach (var batch in ModelIdBatches(ct))
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.QueryAllRawEvents()
                .Where(e => batch.Contains(e.StreamId)).OrderBy(e => e.Sequence).ToListAsync(ct);
            // Only model streams: Marten keeps placeholder ("tombstone") events of rolled-back appends in a stream of its own.
            var byModel = stream.GroupBy(e => e.StreamId).Where(g => g.First().Data is ModelRegistered)
                .ToDictionary(g => g.Key, g => g.ToList());
            stream = byModel.Values.SelectMany(e => e).OrderBy(e => e.Sequence).ToList();
            models += batch.Count;
            events += stream.Count;

            if (views.Contains(ModelViews) || views.Contains(VersionViews))
            {
                var liveModels = (await session.LoadManyAsync<ModelView>(ct, batch)).ToDictionary(m => m.Id);
                var keys = new List<string>();
                var rebuiltVersions = new Dictionary<string, ModelVersionView>();
                foreach (var (id, modelEvents) in byModel)
                {
                    var rebuilt = StorePosition.ModelAt(modelEvents)!;
                    rebuilt.Id = id;
                    if (views.Contains(ModelViews))
                    {
                        Note(counters[ModelViews], liveModels.GetValueOrDefault(id), rebuilt, $"model {id}");
                        if (apply) session.Store(rebuilt);
                    }
                    foreach (var view in StorePosition.VersionsAt(modelEvents).Values)
                    {
                        rebuiltVersions[view.Id] = view;
                        keys.Add(view.Id);
                    }
                }
                if (views.Contains(VersionViews))
                {
                    var liveVersions = (await session.LoadManyAsync<ModelVersionView>(ct, keys)).ToDictionary(v => v.Id);
                    foreach (var (key, rebuilt) in rebuiltVersions)
                    {
                        Note(counters[VersionViews], liveVersions.GetValueOrDefault(key), rebuilt, $"version {key}");
                        if (apply) session.Store(rebuilt);
                    }
                }
            }

            if (views.Contains(Requests))
            {
                var liveRequests = (await session.LoadManyAsync<TransitionRequestsView>(ct, batch)).ToDictionary(r => r.Id);
                foreach (var (id, modelEvents) in byModel)
                {
                    // A model that never had a request has no document, live or rebuilt.
                    if (!modelEvents.Any(e => e.Data is TransitionRequested)) continue;
                    var rebuilt = modelEvents.Aggregate((TransitionRequestsView?)null, (view, e) => TransitionRequestsView.Fold(view, id, e.Data))!;
                    Note(counters[Requests], liveRequests.GetValueOrDefault(id), rebuilt, $"requests of model {id}");
                    if (apply) session.Store(rebuilt);
                }
            }

            // The model view's snapshots are derived from the same events: replaced with the views, in the same transaction.
            if (apply && views.Contains(ModelViews))
                ModelSnapshots.QueueReplace(session, RegistryStore.Schema, batch,
                    byModel.SelectMany(m => ModelSnapshots.Of(m.Key, m.Value, snapshotEvery)));

            string[] before = [];
            if (views.Contains(Intervals))
            {
                before = await IntervalRows(batch, ct);
                if (apply)
                {
                    session.QueueSqlCommand($"delete from {table} where model_id = any(?)", batch.ToArray());
                    foreach (var e in stream) await projection.ApplyAsync(session, e, ct);
                }
            }

            if (apply) await session.SaveChangesAsync(ct);

            if (views.Contains(Intervals) && apply)
            {
                var after = await IntervalRows(batch, ct);
                var missing = before.Except(after).Concat(after.Except(before)).ToList();
                var entry = counters[Intervals];
                entry.Differences += missing.Count;
                entry.Examples.AddRange(missing.Take(MaxExamples - entry.Examples.Count).Select(r => $"interval {r}"));
            }
            progress?.Report(events);
        }

        return views.Select(v => new RebuildReport(v, models, events, counters[v].Differences, counters[v].Examples, started.Elapsed)).ToList();
    }

    private sealed class Counter
    {
        public long Differences { get; set; }
        public List<string> Examples { get; } = [];
    }

    private static void Note<T>(Counter counter, T? live, T rebuilt, string what) where T : class
    {
        var same = live is not null && JsonNode.DeepEquals(JsonSerializer.SerializeToNode(live, Compare), JsonSerializer.SerializeToNode(rebuilt, Compare));
        if (same) return;
        counter.Differences++;
        if (counter.Examples.Count < MaxExamples) counter.Examples.Add(live is null ? $"{what}: missing" : $"{what}: differs");
    }

    // Canonical text of each interval row (the id is a surrogate and changes on rebuild).
    private async Task<string[]> IntervalRows(IReadOnlyList<Guid> models, CancellationToken ct)
    {
        var rows = await DeploymentHistoryQueries.Read(data, RegistryStore.Schema, "model_id = any($1)", [models.ToArray()],
            "order by model_id, entered_seq, kind, subject", ct);
        return rows.Select(r => $"{r.ModelId}|{r.Kind}|{r.Subject}|{r.Target}|{r.Version}|{r.EnteredSeq}|{r.EnteredBy}|{r.EnteredReason}|{r.LeftSeq}|{r.LeftBy}|{r.LeftReason}")
            .ToArray();
    }

    private async IAsyncEnumerable<List<Guid>> ModelIdBatches([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var after = Guid.Empty;
        while (true)
        {
            await using var command = data.CreateCommand(
                $"select id from {RegistryStore.Schema}.mt_streams where id > $1 order by id limit {BatchSize}");
            command.Parameters.Add(new NpgsqlParameter { Value = after });
            var batch = new List<Guid>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) batch.Add(reader.GetGuid(0));
            if (batch.Count == 0) yield break;
            yield return batch;
            after = batch[^1];
        }
    }
}
