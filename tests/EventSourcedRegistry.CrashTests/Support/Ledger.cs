using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace EventSourcedRegistry.CrashTests.Support;

/// <summary>A stored version as the API reads it back.</summary>
public sealed record StoredVersion(string Model, int Version, string? Key, string? Description, string Sha256);

/// <summary>What the store holds against what was acknowledged.</summary>
public sealed record Verdict(
    int Acknowledged, int Replayed, int Stored, int Lost, int Duplicated, int Gaps, int InDoubtStored, int InDoubtAbsent,
    int EventsInStore, int RegisteredEventsInStore, IReadOnlyList<string> Problems);

/// <summary>
/// The crash suite's oracle: reads every version back through the API, and the event store with plain SQL, and holds
/// them against the writers' acknowledgements. Lost: an acknowledged write whose version is missing or holds another
/// body. Duplicated: a key stored more than once. Gaps: version numbers that are not 1..n.
/// </summary>
public static class Ledger
{
    public const string Schema = "registry";

    public static HttpRequestMessage Request(HttpMethod method, Uri node, string path, object? body = null, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(method, new Uri(node, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", ApiNode.AdminKey);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    /// <summary>Registers the models (idempotently: a retry after a lost answer appends nothing).</summary>
    public static async Task RegisterModels(HttpClient http, Uri node, IEnumerable<string> models, string runId)
    {
        foreach (var model in models)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                using var response = await http.SendAsync(Request(HttpMethod.Post, node, "api/v1/models", new { name = model }, $"{runId}-model-{model}"));
                if (response.IsSuccessStatusCode) break;
                if ((int)response.StatusCode < 500 || clock.Elapsed > TimeSpan.FromSeconds(60))
                    throw new InvalidOperationException($"Registering {model}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                await Task.Delay(200);
            }
        }
    }

    public static async Task<IReadOnlyList<StoredVersion>> ReadVersions(HttpClient http, Uri node, string model)
    {
        var stored = new List<StoredVersion>();
        string? cursor = null;
        do
        {
            var path = $"api/v1/models/{model}/versions?limit=1000" + (cursor is null ? "" : $"&cursor={cursor}");
            using var response = await http.SendAsync(Request(HttpMethod.Get, node, path));
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Reading {model}'s versions: {(int)response.StatusCode} {page}");
            foreach (var item in page["items"]!.AsArray())
                stored.Add(new StoredVersion(model, item!["version"]!.GetValue<int>(), item["metadata"]?["key"]?.GetValue<string>(),
                    item["description"]?.GetValue<string>(), item["artifact"]!["sha256"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return stored;
    }

    public static async Task<Verdict> Check(HttpClient http, Uri node, NpgsqlDataSource store, IReadOnlyList<string> models,
        IReadOnlyCollection<Ack> acks, IReadOnlyCollection<Write> unresolved)
    {
        var problems = new List<string>();
        var stored = new List<StoredVersion>();
        var gaps = 0;
        foreach (var model in models)
        {
            var versions = await ReadVersions(http, node, model);
            stored.AddRange(versions);
            var numbers = versions.Select(v => v.Version).ToList();
            if (!numbers.SequenceEqual(Enumerable.Range(1, numbers.Count)))
            {
                gaps += Enumerable.Range(1, numbers.Count == 0 ? 0 : numbers.Max()).Except(numbers).Count();
                problems.Add($"{model}: versions are not 1..{numbers.Count}");
            }
        }

        var byVersion = stored.ToDictionary(v => (v.Model, v.Version));
        var lost = 0;
        foreach (var ack in acks)
        {
            // The body must be the one this key sent: same key in the metadata, description and artifact digest.
            if (!byVersion.TryGetValue((ack.Write.Model, ack.Version), out var version)
                || version.Key != ack.Write.Key || version.Description != ack.Write.Key || version.Sha256 != ack.Write.Sha256)
            {
                lost++;
                if (problems.Count < 20)
                    problems.Add($"lost: {ack.Write.Key} acknowledged as {ack.Write.Model} v{ack.Version}, stored: {version?.Key ?? "nothing"}");
            }
        }

        var duplicated = stored.Where(v => v.Key is not null).GroupBy(v => v.Key).Sum(g => g.Count() - 1);
        foreach (var twice in stored.Where(v => v.Key is not null).GroupBy(v => v.Key).Where(g => g.Count() > 1).Take(10))
            problems.Add($"duplicated: {twice.Key} stored as versions {string.Join(", ", twice.Select(v => $"{v.Model} v{v.Version}"))}");

        var storedKeys = stored.Select(v => v.Key).ToHashSet();
        var inDoubtStored = unresolved.Count(w => storedKeys.Contains(w.Key));

        // The views could hide an appended event; the store itself cannot.
        var events = await Scalar<long>(store, $"select count(*) from {Schema}.mt_events");
        var registered = await Scalar<long>(store, $"select count(*) from {Schema}.mt_events where type = 'model_version_registered'");
        if (registered != stored.Count)
            problems.Add($"the store holds {registered} ModelVersionRegistered events, the API shows {stored.Count} versions");

        return new Verdict(acks.Count, acks.Count(a => a.Replayed), stored.Count, lost, duplicated, gaps, inDoubtStored,
            unresolved.Count - inDoubtStored, (int)events, (int)registered, problems);
    }

    /// <summary>
    /// Waits until the hash chain has caught up with the store, then returns <c>/audit/verify</c>'s answer. Caught up
    /// means the chain covers every event the store holds (its <c>events</c> equals the store's count), not merely that
    /// it says <c>verified</c>: a chain that covers fewer events has not checked the rest. Full, so a checkpoint signed
    /// meanwhile cannot make the check start past the first event.
    /// </summary>
    public static async Task<(JsonNode Verify, long StoreEvents, TimeSpan Waited)> VerifyChain(HttpClient http, Uri node, NpgsqlDataSource store, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var storeEvents = await Scalar<long>(store, $"select count(*) from {Schema}.mt_events");
            using var response = await http.SendAsync(Request(HttpMethod.Get, node, "api/v1/audit/verify?full=true"));
            var verify = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if (response.IsSuccessStatusCode && verify["events"]?.GetValue<long>() == storeEvents) return (verify, storeEvents, clock.Elapsed);
            if (clock.Elapsed > timeout) return (verify, storeEvents, clock.Elapsed);
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// The promise every scenario keeps: no write refused, every acknowledged version stored once with its body and no
    /// gap, no 500 (while PostgreSQL is away the API says 503, retry), and a verified chain over every event in the store.
    /// </summary>
    public static void AssertNothingLost(VersionWriters writers, Verdict verdict, JsonNode verify, long storeEvents)
    {
        Assert.Empty(writers.Refused.Select(r => $"{r.Write.Key}: {(int)r.Status} {r.Body}"));
        Assert.Equal(0, verdict.Lost);
        Assert.Equal(0, verdict.Duplicated);
        Assert.Equal(0, verdict.Gaps);
        Assert.Empty(verdict.Problems);
        Assert.Equal(0, writers.CountOf(500));
        // The whole answer (state, firstUnchainedSequence, highWaterMark, problem) tells a chain that stopped short (the
        // audit worker's mark held at a gap) from one that is broken: the two-node scenario once ended at 327 of 533 events.
        Assert.True(verify["events"]!.GetValue<long>() == storeEvents, $"the chain covers {verify["events"]} of the store's {storeEvents} events: {verify.ToJsonString()}");
        Assert.True(verify["verified"]!.GetValue<bool>(), verify.ToJsonString());
    }

    public static async Task<T> Scalar<T>(NpgsqlDataSource store, string sql)
    {
        await using var command = store.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A data source for the embedded cluster in a data directory (its port from the lock file, its password beside it).</summary>
    public static NpgsqlDataSource EmbeddedStore(string dataDirectory)
    {
        var port = int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postgres", "postmaster.pid")).ElementAt(3).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = Api.Hosting.EmbeddedPostgres.SuperUser,
            Password = File.ReadAllText(Path.Combine(dataDirectory, "postgres-password")).Trim(),
            Database = "registry",
        };
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
