using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Validation;
using JasperFx;
using Marten;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// Issue 20's scale target: 1,000 workspaces × 100 models (<c>--workspaces</c>). First the single-workspace figures on
/// the store as loaded (<c>default</c> and the platform only): commands (register, promote) on models made for this
/// scenario and the audit lag. Then it creates the workspaces through the API (<c>POST /api/v1/workspaces</c>: partitions
/// and directory entry, the product's own path), bulk-loads 100 catalogue models into each (<see cref="BulkLoader"/>, the
/// same loader as the main dataset), settles the store as after the main dataset (vacuum analyze, checkpoint, every
/// workspace's audit caught up), and measures in the middle workspace, through its prefixed routes and a platform
/// key that is admin there: list/search, as-of reads, the same commands (ratio to the single-workspace figure, same run)
/// and the audit lag (an append until the workspace's <c>audit/verify</c> says verified up to it). Runs last: it leaves
/// the store with every workspace in it.
/// </summary>
public sealed class WorkspacesScenario : IScenario
{
    public const int ModelsPerWorkspace = 100;
    public const double ListTargetMs = 20;
    public const double CommandRatioTarget = 0.90;

    /// <summary>How long an append may take to be covered by its workspace's verified chain before the row says it never was.</summary>
    public static readonly TimeSpan AuditLagTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long the audit of the measured workspace may take to catch up on its loaded events before lags are measured.</summary>
    public static readonly TimeSpan AuditCatchUpTimeout = TimeSpan.FromMinutes(3);

    private const int AuditLagSamples = 5;

    /// <summary>The unprefixed routes: <c>default</c>, the single workspace.</summary>
    private const string SinglePrefix = "/api/v1";

    public static string Slug(int i) => "bench-ws-" + i.ToString("D4", CultureInfo.InvariantCulture);

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var count = context.Options.Workspaces ?? BenchOptions.DefaultWorkspaces;
        var sizes = context.Sizes;
        var rows = new List<ResultRow>();
        var measured = WorkspaceId.Parse(Slug((count + 1) / 2));
        var body = RegisterVersionScenario.Body(context.Options.Seed);

        // Single workspace: the store as loaded. The same fresh models, made the same way, in each phase.
        var single = await CommandsAsync(context, context.Http, SinglePrefix, "single workspace", body, ct);
        var singleLag = await AuditLagAsync(context, context.Http, SinglePrefix, "single workspace", ct);

        // The workspaces, through the API, a few requests at a time (registrations take turns on an advisory lock anyway).
        var created = Stopwatch.StartNew();
        var failures = 0;
        string? firstFailure = null;
        await Parallel.ForEachAsync(Enumerable.Range(1, count), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, token) =>
        {
            using var response = await context.Http.PostAsJsonAsync("/api/v1/workspaces", new { slug = Slug(i), displayName = $"Bench {i}" }, token);
            if ((int)response.StatusCode is 201 or 200) return;
            Interlocked.Increment(ref failures);
            firstFailure ??= $"POST /api/v1/workspaces ({Slug(i)}) answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}";
        });
        if (failures > 0) throw new InvalidOperationException($"{failures} workspaces were not created; first: {firstFailure}");
        context.Log($"workspaces: created {count:N0} through the API in {created.Elapsed.TotalSeconds:0.0} s ({count / created.Elapsed.TotalSeconds:0.0}/s)");

        var loaded = Stopwatch.StartNew();
        var names = await LoadAsync(context, count, measured, ct);
        context.Log($"workspaces: bulk-loaded {count:N0} × {ModelsPerWorkspace} models in {loaded.Elapsed.TotalSeconds:0.0} s");
        // As after the main dataset (and before the single-workspace phase): fresh planner statistics, a checkpoint, and
        // the audit caught up on every workspace's loaded events. Otherwise the measurements at scale are billed for
        // autovacuum analysing thousands of new partitions, the checkpointer writing the load, and the audit working off
        // 100,000 models' events in every workspace, none of which a request causes.
        var settled = Stopwatch.StartNew();
        await SettleAsync(context, ct);
        var settleTook = settled.Elapsed;
        var behind = await AuditCaughtUpAsync(context, ct);
        context.Log($"workspaces: vacuum analyze and checkpoint took {settleTook.TotalSeconds:0.0} s, the audit of every workspace's loaded events " +
                    (behind == 0 ? $"{(settled.Elapsed - settleTook).TotalSeconds:0.0} s more" : $"was still behind in {behind:N0} workspaces after {AuditCatchUpTimeout.TotalMinutes:0} min"));

        using var http = await KeyInAsync(context, measured, ct);
        var prefix = $"/api/v1/workspaces/{measured.Slug}";
        var scale = $"{count:N0} workspaces × {ModelsPerWorkspace} models";

        rows.AddRange(await ListAsync(context, http, prefix, names, scale, ct));
        rows.AddRange(await AsOfAsync(context, http, prefix, scale, ct));
        var many = await CommandsAsync(context, http, prefix, scale, body, ct);
        foreach (var (one, other) in single.Zip(many))
            rows.Add(Ratio($"{one.Name} at {scale}", other, one));
        var manyLag = await AuditLagAsync(context, http, prefix, scale, ct);
        rows.Add(LagRow("single workspace", singleLag));
        rows.Add(LagRow(scale, manyLag));
        return rows;
    }

    private sealed record Command(string Name, LoadResult Result, string? FirstFailure);

    /// <summary>A measurement and its first unexpected answer, taken before the next measurement forgets it.</summary>
    private static async Task<(LoadResult Result, string? FirstFailure)> MeasureAsync(BenchContext context, string scenario, int clients, int operations,
        Operation operation, CancellationToken ct)
    {
        var result = await context.MeasureAsync(scenario, clients, operations, operation, ct);
        return (result, result.Failures > 0 ? context.FirstFailure : null);
    }

    /// <summary>Register and promote at 1 and 8 clients on models this scenario makes (the phase's label names them apart).</summary>
    private static async Task<IReadOnlyList<Command>> CommandsAsync(BenchContext context, HttpClient http, string prefix, string phase, byte[] body, CancellationToken ct)
    {
        var tag = prefix == SinglePrefix ? "single" : "many";
        var register = Enumerable.Range(0, Dataset.Clients).Select(i => $"ws-bench-{tag}-register-{i}").ToList();
        var promote = Enumerable.Range(0, Dataset.Clients).Select(i => $"ws-bench-{tag}-promote-{i}").ToList();
        foreach (var name in register.Concat(promote))
            await Expect(http, HttpMethod.Post, $"{prefix}/models", JsonSerializer.SerializeToUtf8Bytes(new { name }), 201, ct);
        foreach (var name in promote)
            await Expect(http, HttpMethod.Post, $"{prefix}/models/{name}/versions", body, 201, ct);

        var moves = new int[Dataset.Clients];
        var toStaging = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Staging", reason = "benchmark: candidate" });
        var toProduction = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Production", reason = "benchmark: promote" });
        ValueTask<bool> Register(int worker, CancellationToken token) =>
            Send(context, http, HttpMethod.Post, $"{prefix}/models/{register[worker]}/versions", body, 201, token);
        ValueTask<bool> Promote(int worker, CancellationToken token) =>
            Send(context, http, HttpMethod.Post, $"{prefix}/models/{promote[worker]}/versions/1/stage",
                moves[worker]++ % 2 == 0 ? toStaging : toProduction, 200, token);

        var sizes = context.Sizes;
        var commands = new List<Command>();
        foreach (var (name, clients, operations, operation) in new (string, int, int, Func<int, CancellationToken, ValueTask<bool>>)[]
        {
            ("register version, 1 client", 1, sizes.Commands1, Register),
            ("register version, 8 clients × 8 models", Dataset.Clients, sizes.Commands8, Register),
            ("promote, 1 client", 1, sizes.Commands1, Promote),
            ("promote, 8 clients × 8 models", Dataset.Clients, sizes.Commands8, Promote),
        })
        {
            var (result, failure) = await MeasureAsync(context, $"{phase}: {name}", clients, operations, (w, _, t) => operation(w, t), ct);
            commands.Add(new Command(name, result, failure));
        }
        return commands;
    }

    private static ResultRow Ratio(string scenario, Command many, Command one)
    {
        var (ours, single) = (many.Result, one.Result);
        var ratio = ours.PerSecond / single.PerSecond;
        var failed = ours.Failures > 0 || single.Failures > 0;
        return new ResultRow(scenario,
            $"{LoadResult.Rate(ours.PerSecond, "req/s")} ({ours.Latency.Describe()})",
            $"{LoadResult.Rate(single.PerSecond, "req/s")} single workspace ({single.Latency.Describe()})",
            ResultRow.Times(ratio), $"≥ {CommandRatioTarget:0.00}×",
            !failed && ratio >= CommandRatioTarget ? Verdict.Pass : Verdict.Fail,
            failed ? $"{ours.Failures + single.Failures} unexpected answers; first: {one.FirstFailure ?? many.FirstFailure}" : null);
    }

    /// <summary>Loads <see cref="ModelsPerWorkspace"/> catalogue models into every workspace; returns the measured one's normalized names, sorted.</summary>
    private static async Task<IReadOnlyList<string>> LoadAsync(BenchContext context, int count, WorkspaceId measured, CancellationToken ct)
    {
        using var store = DocumentStore.For(o =>
        {
            o.Connection(context.ConnectionString);
            o.ConfigureRegistry();
            o.AutoCreateSchemaObjects = AutoCreate.None;
        });
        // The API registered every workspace; this store's Marten learns their partitions in one call (idempotent).
        var suffixes = new Dictionary<string, string>();
        await using (var command = context.Db.CreateCommand($"select partition_value, partition_suffix from {RegistryStore.Schema}.mt_tenant_partitions"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) suffixes[reader.GetString(0)] = reader.GetString(1);
        await store.Advanced.AddMartenManagedTenantsAsync(ct, suffixes);
        var names = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(1, count), new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = ct }, async (i, token) =>
        {
            var workspace = WorkspaceId.Parse(Slug(i));
            var streams = new DatasetGenerator(context.Options.Seed + i).Catalogue(ModelsPerWorkspace).ToList();
            await new BulkLoader(store, context.ConnectionString, ModelSnapshots.DefaultInterval, workspace).LoadAsync(streams, token);
            if (workspace == measured)
                lock (names) names.AddRange(streams.Select(s => InputRules.NormalizeName(s.Name)));
        });
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private static async Task SettleAsync(BenchContext context, CancellationToken ct)
    {
        await using var connection = new Npgsql.NpgsqlConnection(context.ConnectionString);
        await connection.OpenAsync(ct);
        foreach (var sql in new[] { "vacuum analyze", "checkpoint" })
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection) { CommandTimeout = 1200 };
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// Waits until both audit projections of every workspace have reached the workspace's last sequence (their progress
    /// rows, whichever runs them: the audit worker or Marten's daemon), at most <see cref="AuditCatchUpTimeout"/>; returns
    /// how many workspaces are still behind (0: none).
    /// </summary>
    private static async Task<long> AuditCaughtUpAsync(BenchContext context, CancellationToken ct)
    {
        var schema = RegistryStore.Schema;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            await using var command = context.Db.CreateCommand(
                $"select count(*) from {schema}.mt_tenant_partitions p " +
                $"left join {Audit.AuditTrail.ProgressionTable} l on l.name = '{Audit.AuditTrail.AuditLogProjectionName}:All:' || p.partition_value " +
                $"left join {Audit.AuditTrail.ProgressionTable} c on c.name = '{Audit.AuditTrail.HashChainProjectionName}:All:' || p.partition_value " +
                $"where coalesce(pg_sequence_last_value(to_regclass(format('%I.%I', '{schema}', '{EventGaps.SequencePrefix}' || p.partition_suffix))), 0) " +
                "> least(coalesce(l.last_seq_id, 0), coalesce(c.last_seq_id, 0))");
            var behind = (long)(await command.ExecuteScalarAsync(ct))!;
            if (behind == 0 || watch.Elapsed > AuditCatchUpTimeout) return behind;
            await Task.Delay(500, ct);
        }
    }

    /// <summary>A client with a platform key that is admin of the measured workspace only.</summary>
    private static async Task<HttpClient> KeyInAsync(BenchContext context, WorkspaceId workspace, CancellationToken ct)
    {
        using var response = await context.Http.PostAsJsonAsync("/api/v1/platform/keys", new
        {
            name = "bench-workspaces", owner = "bench", grants = new[] { new { role = "admin", workspace = workspace.Slug } },
        }, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"POST /api/v1/platform/keys answered {(int)response.StatusCode}: {text}");
        var key = JsonDocument.Parse(text).RootElement.GetProperty("key").GetString()!;
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseCookies = false })
        {
            BaseAddress = context.Http.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        return http;
    }

    private static async Task<IReadOnlyList<ResultRow>> ListAsync(BenchContext context, HttpClient http, string prefix, IReadOnlyList<string> names,
        string scale, CancellationToken ct)
    {
        var teams = DatasetGenerator.Teams;
        string Q(string value) => Uri.EscapeDataString(value);
        // The kinds of ListModelsScenario that still select something among 100 models.
        var queries = new (string Kind, Func<int, string> Path)[]
        {
            ("first page, no filter", _ => $"{prefix}/models"),
            ("a page after a cursor", i => $"{prefix}/models?cursor={Cursor(names[(i * 7) % (names.Count / 2)])}"),
            ("prefix team-", i => $"{prefix}/models?prefix={Q(teams[i % teams.Length] + "-")}"),
            ("tag team", i => $"{prefix}/models?tag={Q("team:" + teams[i % teams.Length])}"),
            ("stage Production", _ => $"{prefix}/models?stage=Production"),
        };
        var rows = new List<ResultRow>();
        foreach (var (kind, path) in queries)
        {
            var result = await context.MeasureAsync($"workspaces: list/search: {kind}", 1, context.Sizes.ListQueriesPerKind,
                (_, i, token) => Send(context, http, HttpMethod.Get, path(i), null, 200, token), ct);
            var problem = result.Failures > 0 ? $"{result.Failures} unexpected answers; first: {context.FirstFailure}" : null;
            rows.Add(new ResultRow($"list/search in one of {scale}: {kind}",
                $"p99 {LatencyStats.Ms(result.Latency.P99)} (p50 {LatencyStats.Ms(result.Latency.P50)})", "—", "—", $"p99 ≤ {ListTargetMs:0} ms",
                problem is null && result.Latency.P99 <= ListTargetMs ? Verdict.Pass : Verdict.Fail, problem));
        }
        return rows;
    }

    /// <summary>The as-of reads of <see cref="AsOfScenario"/> in the workspace, at its last sequence (all its models).</summary>
    private static async Task<IReadOnlyList<ResultRow>> AsOfAsync(BenchContext context, HttpClient http, string prefix, string scale, CancellationToken ct)
    {
        using var verify = JsonDocument.Parse(await http.GetByteArrayAsync($"{prefix}/audit/verify", ct));
        var sequence = verify.RootElement.GetProperty("storeHeadSequence").GetInt64();
        using var page = JsonDocument.Parse(await http.GetByteArrayAsync($"{prefix}/models?limit=1", ct));
        var model = page.RootElement.GetProperty("items")[0].GetProperty("name").GetString()!;
        var registryPath = $"{prefix}/registry?atSequence={sequence}&limit={AsOfScenario.PageSize}";
        var modelPath = $"{prefix}/models/{model}?atSequence={sequence}";
        // As many requests as AsOfScenario makes of each read, so "the as-of targets unchanged" compares like with like
        // (with 30 requests a p99 is the slowest single request).
        var n = Math.Max(30, context.Sizes.ListQueriesPerKind / 10);
        var modelN = Math.Max(100, context.Sizes.ModelReads / 10);
        var registry = await MeasureAsync(context, "workspaces: as-of registry, one page", 1, n, (_, _, t) => Send(context, http, HttpMethod.Get, registryPath, null, 200, t), ct);
        var one = await MeasureAsync(context, "workspaces: as-of model", 1, modelN, (_, _, t) => Send(context, http, HttpMethod.Get, modelPath, null, 200, t), ct);
        ResultRow Row(string name, (LoadResult Result, string? FirstFailure) measured, double target) => Measured(name, measured.Result, measured.FirstFailure, target);
        ResultRow Measured(string name, LoadResult r, string? firstFailure, double target) => new(name,
            $"p99 {LatencyStats.Ms(r.Latency.P99)} (p50 {LatencyStats.Ms(r.Latency.P50)})", "—", "—", $"p99 ≤ {target:0} ms",
            r.Failures == 0 && r.Latency.P99 <= target ? Verdict.Pass : Verdict.Fail,
            r.Failures > 0 ? $"{r.Failures} of {r.Operations} unexpected answers (at the workspace's last sequence {sequence}); first: {firstFailure}" : $"at the workspace's last sequence {sequence}");
        return
        [
            Row($"as-of in one of {scale}: whole registry, one page", registry, AsOfScenario.PageTargetMs),
            Row($"as-of in one of {scale}: one model", one, AsOfScenario.ModelTargetMs),
        ];
    }

    private sealed record Lag(TimeSpan CatchUp, IReadOnlyList<TimeSpan> Samples, string? Problem);

    /// <summary>
    /// First waits for the workspace's chain to be verified up to its store head (the loaded events), then appends
    /// <see cref="AuditLagSamples"/> times and waits each time until verify covers the append: the audit lag.
    /// </summary>
    private static async Task<Lag> AuditLagAsync(BenchContext context, HttpClient http, string prefix, string phase, CancellationToken ct)
    {
        var model = $"ws-bench-{(prefix == SinglePrefix ? "single" : "many")}-audit";
        await Expect(http, HttpMethod.Post, $"{prefix}/models", JsonSerializer.SerializeToUtf8Bytes(new { name = model }), 201, ct);
        var catchUp = await UntilVerifiedAsync(http, prefix, AuditCatchUpTimeout, ct);
        if (catchUp is null)
            return new Lag(AuditCatchUpTimeout, [], $"the workspace's chain was not verified up to its store head within {AuditCatchUpTimeout.TotalSeconds:0} s of loading");
        context.Log($"{phase}: audit chain verified up to the store head after {catchUp.Value.TotalSeconds:0.0} s");
        var samples = new List<TimeSpan>();
        var body = RegisterVersionScenario.Body(context.Options.Seed);
        for (var i = 0; i < AuditLagSamples; i++)
        {
            await Expect(http, HttpMethod.Post, $"{prefix}/models/{model}/versions", body, 201, ct);
            var lag = await UntilVerifiedAsync(http, prefix, AuditLagTimeout, ct);
            if (lag is null) return new Lag(catchUp.Value, samples, $"append {i + 1} was not covered by a verified chain within {AuditLagTimeout.TotalSeconds:0} s");
            samples.Add(lag.Value);
        }
        context.Log($"{phase}: audit lag {string.Join(", ", samples.Select(s => $"{s.TotalMilliseconds:0} ms"))}");
        return new Lag(catchUp.Value, samples, null);
    }

    /// <summary>How long until <c>audit/verify</c> says verified with its head at the store head it saw; null: not within the timeout.</summary>
    private static async Task<TimeSpan?> UntilVerifiedAsync(HttpClient http, string prefix, TimeSpan timeout, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        long? wanted = null;
        while (watch.Elapsed < timeout)
        {
            using var doc = JsonDocument.Parse(await http.GetByteArrayAsync($"{prefix}/audit/verify", ct));
            var root = doc.RootElement;
            wanted ??= root.GetProperty("storeHeadSequence").GetInt64();
            if (root.GetProperty("verified").GetBoolean() && root.GetProperty("headSequence").GetInt64() >= wanted) return watch.Elapsed;
            await Task.Delay(50, ct);
        }
        return null;
    }

    private static ResultRow LagRow(string phase, Lag lag)
    {
        var sorted = lag.Samples.Order().ToList();
        var ours = sorted.Count == 0 ? "none covered"
            : $"median {sorted[sorted.Count / 2].TotalMilliseconds:0} ms, max {sorted[^1].TotalMilliseconds:0} ms ({sorted.Count} appends)";
        return new ResultRow($"audit lag (append → verified by the workspace's audit/verify), {phase}", ours, "—", "—", "reported",
            lag.Problem is null ? Verdict.Info : Verdict.Fail,
            lag.Problem ?? $"the loaded events were verified {lag.CatchUp.TotalSeconds:0.0} s after the scenario asked");
    }

    private static async Task Expect(HttpClient http, HttpMethod method, string path, byte[] json, int status, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request, ct);
        if ((int)response.StatusCode != status)
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}, expected {status}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    /// <summary><see cref="BenchContext.SendAsync"/> through another client (the workspace's key).</summary>
    private static async ValueTask<bool> Send(BenchContext context, HttpClient http, HttpMethod method, string path, byte[]? json, int status, CancellationToken ct)
    {
        if (ReferenceEquals(http, context.Http)) return await context.SendAsync(method, path, json, status, ct);
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        if ((int)response.StatusCode == status) return true;
        context.NoteFailure($"{method} {path} answered {(int)response.StatusCode}, expected {status}: {Truncate(await response.Content.ReadAsStringAsync(ct))}");
        return false;
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private static string Cursor(string normalizedName) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(normalizedName)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
