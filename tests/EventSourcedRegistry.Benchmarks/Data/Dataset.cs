using System.Diagnostics;
using System.Globalization;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using JasperFx;
using Marten;

namespace EventSourcedRegistry.Benchmarks.Data;

public sealed record SeededModel(string Name, Guid Id, int Events);

/// <summary>
/// The as-of dataset (full mode): every model and event up to <see cref="Sequence"/> — the scenario models, the
/// long history and <see cref="Models"/> history models, <see cref="Events"/> events in all — loaded before the
/// catalogue, so the registry as of that sequence is exactly that many models and events.
/// </summary>
public sealed record AsOfSet(long Sequence, int Models, long Events, TimeSpan BulkLoadTime);

/// <summary>What the loader put in the store, and which model each scenario drives.</summary>
public sealed record Dataset(
    IReadOnlyList<string> WarmupModels,
    IReadOnlyList<string> RegisterModels,
    string ContendedRegisterModel,
    IReadOnlyList<string> PromoteModels,
    string ContendedPromoteModel,
    SeededModel ShortHistory,
    SeededModel LongHistory,
    IReadOnlyList<string> CatalogueNames,
    long Events,
    TimeSpan LoadTime,
    AsOfSet? AsOf)
{
    public const int Clients = 8;
    public const int ShortHistoryEvents = 10;
    public double EventsPerSecond => Events / LoadTime.TotalSeconds;
}

/// <summary>
/// Loads the dataset straight into Marten with the registry's own store configuration, without HTTP: the models the
/// scenarios drive through the normal append path (many streams per SaveChanges, the inline projections building
/// their views), everything else in bulk (<see cref="BulkLoader"/>): the as-of set (full mode), then the catalogue.
/// </summary>
public static class DatasetLoader
{
    private const int BulkStreams = 500;

    public static string AsOfName(int i) => "asof-history-" + i.ToString("D5", CultureInfo.InvariantCulture);

    public static async Task<Dataset> LoadAsync(string connectionString, BenchOptions options, Action<string> log, CancellationToken ct)
    {
        var generator = new DatasetGenerator(options.Seed);
        using var store = DocumentStore.For(o =>
        {
            o.Connection(connectionString);
            o.ConfigureRegistry();
            o.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        // The workspace the dataset is written into, registered as the API registers it at start.
        await WorkspacePartitions.AddAsync(store, WorkspaceId.Default, ct);

        var clock = Stopwatch.StartNew();
        long events = 0;

        string Numbered(string prefix, int i) => prefix + i.ToString(CultureInfo.InvariantCulture);
        var warmup = Enumerable.Range(0, Dataset.Clients).Select(i => generator.Fresh(Numbered("bench-warmup-", i), 1)).ToList();
        var register = Enumerable.Range(0, Dataset.Clients).Select(i => generator.Fresh(Numbered("bench-register-", i), 0)).ToList();
        var registerContended = generator.Fresh("bench-register-contended", 0);
        var promote = Enumerable.Range(0, Dataset.Clients).Select(i => generator.Fresh(Numbered("bench-promote-", i), 1)).ToList();
        var promoteContended = generator.Fresh("bench-promote-contended", Dataset.Clients);
        var shortHistory = generator.History("bench-history-short", Dataset.ShortHistoryEvents);
        var longHistory = generator.History("bench-history-long", options.Sizes.HistoryEvents);

        var targets = warmup.Concat(register).Append(registerContended).Concat(promote).Append(promoteContended).Append(shortHistory).ToList();
        events += await SaveAsync(store, targets, ct);
        events += await SaveAsync(store, [longHistory], ct);
        log($"loaded the scenario models and a {longHistory.Events.Count:N0}-event history");

        // workspaces: one workspace (default) until the benchmark measures many.
        var bulk = new BulkLoader(store, connectionString, ModelSnapshots.DefaultInterval, WorkspaceId.Default);
        AsOfSet? asOf = null;
        if (options.Sizes.AsOfModels > 0)
        {
            // The rest of the 10,000 models and 1,000,000 events, as long-history models of equal length.
            var seeded = targets.Count + 1;
            var count = options.Sizes.AsOfModels - seeded;
            var each = (int)((options.Sizes.AsOfEvents - events) / count);
            var longer = (int)((options.Sizes.AsOfEvents - events) % count); // the first ones get one event more: 1,000,000 exactly
            var bulkClock = Stopwatch.StartNew();
            long asOfEvents = 0, mark = 0;
            var chunks = Enumerable.Range(0, count).Chunk(BulkStreams);
            await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct }, async (chunk, token) =>
            {
                var streams = chunk.Select(i => generator.History(AsOfName(i), i < longer ? each + 1 : each)).ToList();
                var (n, last) = await bulk.LoadAsync(streams, token);
                lock (bulk)
                {
                    asOfEvents += n;
                    mark = Math.Max(mark, last);
                }
            });
            events += asOfEvents;
            asOf = new AsOfSet(mark, options.Sizes.AsOfModels, events, bulkClock.Elapsed);
            log($"bulk-loaded the as-of set: {count:N0} models × {each}–{each + 1} events ({asOfEvents:N0} events) in {bulkClock.Elapsed.TotalSeconds:0.0} s " +
                $"({asOfEvents / bulkClock.Elapsed.TotalSeconds:N0} events/s); as of sequence {mark:N0}: {asOf.Models:N0} models, {asOf.Events:N0} events");
        }

        var names = new List<string>(options.Sizes.ListModels);
        var catalogueClock = Stopwatch.StartNew();
        var batches = generator.Catalogue(options.Sizes.ListModels).Chunk(BulkStreams * 4);
        // Two writers keep PostgreSQL and the client both busy on two cores; the generator is enumerated under
        // Parallel.ForEachAsync's lock, so the content never depends on scheduling.
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct }, async (batch, token) =>
        {
            var (saved, _) = await bulk.LoadAsync(batch, token);
            lock (names)
            {
                names.AddRange(batch.Select(s => InputRules.NormalizeName(s.Name)));
                events += saved;
            }
        });
        names.Sort(StringComparer.Ordinal);
        clock.Stop();
        log($"bulk-loaded {names.Count:N0} catalogue models in {catalogueClock.Elapsed.TotalSeconds:0.0} s; {events:N0} events in {clock.Elapsed.TotalSeconds:0.0} s");

        return new Dataset(
            warmup.Select(s => s.Name).ToList(),
            register.Select(s => s.Name).ToList(), registerContended.Name,
            promote.Select(s => s.Name).ToList(), promoteContended.Name,
            new SeededModel(shortHistory.Name, shortHistory.Id, shortHistory.Events.Count),
            new SeededModel(longHistory.Name, longHistory.Id, longHistory.Events.Count),
            names, events, clock.Elapsed, asOf);
    }

    private static async Task<long> SaveAsync(IDocumentStore store, IReadOnlyCollection<SeedStream> streams, CancellationToken ct)
    {
        await using var session = store.LightweightSession(WorkspaceId.Default.TenantId);
        session.LastModifiedBy = "bench:seed";
        session.CorrelationId = "bench-seed";
        session.CausationId = "bench-seed";
        foreach (var stream in streams)
        {
            session.Events.StartStream<ModelView>(stream.Id, stream.Events.ToArray());
            session.Insert(new ModelNameIndex { Id = InputRules.NormalizeName(stream.Name), ModelId = stream.Id });
        }
        await session.SaveChangesAsync(ct);
        return streams.Sum(s => (long)s.Events.Count);
    }
}
