using System.Diagnostics;
using System.Globalization;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using JasperFx;
using Marten;

namespace EventSourcedRegistry.Benchmarks.Data;

public sealed record SeededModel(string Name, Guid Id, int Events);

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
    TimeSpan LoadTime)
{
    public const int Clients = 8;
    public const int ShortHistoryEvents = 10;
    public double EventsPerSecond => Events / LoadTime.TotalSeconds;
}

/// <summary>
/// Loads the dataset straight into Marten with the registry's own store configuration: many streams per
/// SaveChanges, so the inline projections build the model and version views as the events go in, without HTTP.
/// </summary>
public static class DatasetLoader
{
    private const int StreamsPerBatch = 500;

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

        var names = new List<string>(options.Sizes.ListModels);
        var batches = generator.Catalogue(options.Sizes.ListModels).Chunk(StreamsPerBatch);
        // Two writers keep PostgreSQL and the client both busy on two cores; the generator is enumerated under
        // Parallel.ForEachAsync's lock, so the content never depends on scheduling.
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct }, async (batch, token) =>
        {
            var saved = await SaveAsync(store, batch, token);
            lock (names)
            {
                names.AddRange(batch.Select(s => InputRules.NormalizeName(s.Name)));
                events += saved;
            }
        });
        names.Sort(StringComparer.Ordinal);
        clock.Stop();
        log($"loaded {names.Count:N0} catalogue models; {events:N0} events in {clock.Elapsed.TotalSeconds:0.0} s");

        return new Dataset(
            warmup.Select(s => s.Name).ToList(),
            register.Select(s => s.Name).ToList(), registerContended.Name,
            promote.Select(s => s.Name).ToList(), promoteContended.Name,
            new SeededModel(shortHistory.Name, shortHistory.Id, shortHistory.Events.Count),
            new SeededModel(longHistory.Name, longHistory.Id, longHistory.Events.Count),
            names, events, clock.Elapsed);
    }

    private static async Task<long> SaveAsync(IDocumentStore store, IReadOnlyCollection<SeedStream> streams, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
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
