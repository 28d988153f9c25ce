using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EventSourcedRegistry.Benchmarks.Infrastructure;
using Npgsql;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// The console's pages as a browser asks for them (issue 15's speed line): signed in through the sign-in form with the
/// admin key (a cookie session, as a person's), 1 client, per-request latency with the HTML read to the end.
/// <list type="bullet">
/// <item>The registry page (its first page) over the catalogue: 100,000 models in full mode.</item>
/// <item>A model page of a model with 50 versions and 1,000 events (staged, promoted, aliased, deployed: what the page
/// draws), written through the API by this scenario.</item>
/// <item>The registry page as of an instant, in turn at 20 instants spread evenly over the as-of set (10,000 models,
/// 1,000,000 events) in full mode, over the loaded store in quick mode: the newest is its last event. Asked newest first
/// (the check below): the first resolution of an instant marks the history before it (<c>SettledInstants</c>), and each
/// later one reads the events since the nearest mark, which is what an auditor paging through the past meets.</item>
/// </list>
/// The three kinds are interleaved request by request, so each sees the same machine load.
/// </summary>
public sealed partial class ConsoleScenario : IScenario
{
    public const double PageTargetMs = 50;
    public const double AsOfTargetMs = 100;
    public const int ModelVersions = 50;
    public const int ModelEvents = 1_000;
    public const string ModelName = "bench-console-model";

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var caughtUp = await ProjectionStatus.WaitCaughtUpAsync(context, ct);
        context.Log($"console: async projections caught up after {caughtUp.TotalSeconds:0.0} s more");
        var asOf = await AsOfInstantAsync(context, ct);
        var events = await WriteModelAsync(context, ct);
        context.Log($"console: {ModelName} written through the API ({ModelVersions} versions, {events:N0} events)");

        using var browser = new HttpClient(new SocketsHttpHandler
        {
            CookieContainer = new CookieContainer(),
            UseCookies = true,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        })
        {
            BaseAddress = context.Http.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        await SignInAsync(browser, ct);

        var registryPath = "/console/workspaces/default/registry";
        var modelPath = $"/console/workspaces/default/models/{ModelName}";
        var asOfPaths = asOf.Instants.Select(i => $"{registryPath}?asOf={Uri.EscapeDataString(i)}").ToArray();
        var asOfPath = asOfPaths[0];
        var modelBytes = 0;
        var asOfModels = 0;
        var failures = 0;
        string? firstFailure = null;

        async Task<string?> GetAsync(string path)
        {
            using var response = await browser.GetAsync(path, HttpCompletionOption.ResponseContentRead, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.StatusCode == HttpStatusCode.OK && !body.Contains("class=\"problem\"", StringComparison.Ordinal)) return body;
            failures++;
            firstFailure ??= $"GET {path} answered {(int)response.StatusCode}: {body[..Math.Min(300, body.Length)]}";
            return null;
        }

        // What each page shows, checked once: a page that answers fast because it shows nothing would mean nothing.
        var registry = await GetAsync(registryPath) ?? "";
        var model = await GetAsync(modelPath) ?? "";
        var past = await GetAsync(asOfPath) ?? "";
        modelBytes = Encoding.UTF8.GetByteCount(model);
        asOfModels = RowCount(past);
        if (RowCount(registry) == 0 || !model.Contains("champion", StringComparison.Ordinal) || asOfModels == 0)
            throw new InvalidOperationException($"The console's pages do not show what they should: registry rows {RowCount(registry)}, " +
                $"as-of rows {asOfModels}, model page of {modelBytes:N0} bytes. {firstFailure}");

        var n = context.Sizes.ListQueriesPerKind;
        var registryTicks = new List<long>(n);
        var modelTicks = new List<long>(n);
        var asOfTicks = new List<long>(n);

        var round = 0;
        async Task Round(bool measured)
        {
            var pastPath = asOfPaths[round++ % asOfPaths.Length];
            var t0 = Stopwatch.GetTimestamp();
            await GetAsync(registryPath);
            var t1 = Stopwatch.GetTimestamp();
            await GetAsync(modelPath);
            var t2 = Stopwatch.GetTimestamp();
            await GetAsync(pastPath);
            var t3 = Stopwatch.GetTimestamp();
            if (!measured) return;
            registryTicks.Add(t1 - t0);
            modelTicks.Add(t2 - t1);
            asOfTicks.Add(t3 - t2);
        }

        for (var i = 0; i < BenchSizes.WarmupFor(n); i++) await Round(measured: false);
        failures = 0;
        firstFailure = null;
        var before = context.CpuNow();
        for (var i = 0; i < n; i++) await Round(measured: true);
        context.RecordCpu("console pages (registry + model + as-of registry, per round)", before, n);

        var registryStats = LatencyStats.FromTicks(registryTicks);
        var modelStats = LatencyStats.FromTicks(modelTicks);
        var asOfStats = LatencyStats.FromTicks(asOfTicks);
        context.Log($"console: registry {registryStats.Describe()}, model {modelStats.Describe()}, as-of registry {asOfStats.Describe()}");
        var failed = failures > 0 ? $"{failures} unexpected answers; first: {firstFailure}" : null;

        ResultRow Row(string scenario, LatencyStats stats, double target, string scale) => new(scenario,
            $"p99 {LatencyStats.Ms(stats.P99)} (p50 {LatencyStats.Ms(stats.P50)})",
            scale, "—", $"p99 ≤ {target:0} ms",
            failed is null && stats.P99 <= target ? Verdict.Pass : Verdict.Fail,
            failed);

        return
        [
            Row("console: registry page, 1 client", registryStats, PageTargetMs,
                $"first page of {context.Dataset.CatalogueNames.Count:N0}+ models, signed in by cookie"),
            Row($"console: model page ({ModelVersions} versions, {events:N0} events), 1 client", modelStats, PageTargetMs,
                $"{modelBytes:N0} bytes of HTML"),
            Row("console: registry page as of an instant, 1 client", asOfStats, AsOfTargetMs,
                $"{asOfModels} models on the page at the newest of {asOfPaths.Length} instants, {asOf.Scale}"),
        ];
    }

    /// <summary>The rows of a registry page's table (one per model).</summary>
    private static int RowCount(string html) => Regex.Count(html, "<tr[ >]") - 1;

    private static async Task SignInAsync(HttpClient browser, CancellationToken ct)
    {
        var form = await browser.GetStringAsync("/console/signin", ct);
        var token = AntiforgeryToken().Match(form);
        if (!token.Success) throw new InvalidOperationException("The sign-in page carries no antiforgery token.");
        using var posted = await browser.PostAsync("/console/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = ApiProcess.AdminKey,
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
        }), ct);
        if (posted.StatusCode != HttpStatusCode.Redirect)
            throw new InvalidOperationException($"Signing in to the console answered {(int)posted.StatusCode}, not a redirect.");
    }

    private sealed record AsOfPoint(IReadOnlyList<string> Instants, string Scale);

    /// <summary>
    /// The instant of the as-of set's last event (full mode), else of the store's last event, in the default workspace,
    /// then the instants of 19 events spread evenly before it. Several bulk-loaded events can share an instant; the page
    /// then shows the registry with all of them.
    /// </summary>
    private static async Task<AsOfPoint> AsOfInstantAsync(BenchContext context, CancellationToken ct)
    {
        var set = context.Dataset.AsOf;
        await using var command = context.Db.CreateCommand(set is null
            ? "select max(timestamp), max(seq_id) from mt_events where tenant_id = 'default'"
            : "select timestamp, seq_id from mt_events where tenant_id = 'default' and seq_id = $1");
        if (set is not null) command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = set.Sequence });
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("The store holds no event to read the registry as of.");
        static string Show(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var instants = new List<string> { Show(reader.GetFieldValue<DateTimeOffset>(0)) };
        var sequence = reader.GetInt64(1);
        await reader.DisposeAsync();
        await using var earlier = context.Db.CreateCommand(
            "select timestamp from mt_events where tenant_id = 'default' and seq_id = any($1) and timestamp > '-infinity' order by seq_id desc");
        earlier.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = Enumerable.Range(1, 19).Select(k => sequence * (20 - k) / 20).ToArray() });
        await using (var rows = await earlier.ExecuteReaderAsync(ct))
            while (await rows.ReadAsync(ct)) instants.Add(Show(rows.GetFieldValue<DateTimeOffset>(0)));
        var scale = set is { } s
            ? $"the as-of set: {s.Models:N0} models, {s.Events:N0} events up to sequence {sequence:N0}"
            : $"the loaded store up to sequence {sequence:N0} ({context.Options.ModeName} mode; full mode: 1,000,000 events)";
        return new AsOfPoint(instants, scale);
    }

    /// <summary>
    /// The model the model page is measured on, written through the API: 50 versions, each registered, staged, promoted
    /// to Production (archiving the last), aliased champion and reported deployed, then description edits up to 1,000
    /// events. Returns its event count.
    /// </summary>
    private static async Task<long> WriteModelAsync(BenchContext context, CancellationToken ct)
    {
        async Task Send(HttpMethod method, string path, object body, int expected)
        {
            using var request = new HttpRequestMessage(method, path) { Content = JsonContent(body) };
            using var response = await context.Http.SendAsync(request, ct);
            if ((int)response.StatusCode != expected)
                throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }

        var model = $"/api/v1/models/{ModelName}";
        await Send(HttpMethod.Post, "/api/v1/models", new { name = ModelName, description = "The console benchmark's model.", tags = new { team = "bench" } }, 201);
        for (var v = 1; v <= ModelVersions; v++)
        {
            await Send(HttpMethod.Post, $"{model}/versions", new
            {
                artifact = new { uri = $"s3://bench/{ModelName}/{v}.onnx", sha256 = Convert.ToHexStringLower(BitConverter.GetBytes(v)).PadLeft(64, '0'), sizeBytes = 1_000 + v },
                metrics = new Dictionary<string, double> { ["auc"] = 0.8 + v / 1_000.0, ["latency_ms"] = 10 + v },
                lineage = new { runId = $"run-{v}", sourceRepository = "https://git.example.com/bench/model", sourceCommit = $"{v:x8}{v:x8}{v:x8}{v:x8}{v:x8}" },
            }, 201);
            await Send(HttpMethod.Post, $"{model}/versions/{v}/stage", new { stage = "Staging", reason = "candidate", archiveExisting = false }, 200);
            await Send(HttpMethod.Post, $"{model}/versions/{v}/stage", new { stage = "Production", reason = "beats the champion", archiveExisting = true }, 200);
            await Send(HttpMethod.Put, $"{model}/aliases/champion", new { version = v, reason = "new champion" }, 200);
            await Send(HttpMethod.Post, $"{model}/deployments", new { version = v, environment = v % 2 == 0 ? "eu" : "us", action = "deployed", reason = "rollout" }, 200);
        }
        var events = await EventCountAsync(context, ct);
        for (var i = 0; events < ModelEvents; i++, events++)
            await Send(HttpMethod.Patch, model, new { description = $"The console benchmark's model, edit {i}." }, 200);
        return await EventCountAsync(context, ct);
    }

    private static async Task<long> EventCountAsync(BenchContext context, CancellationToken ct)
    {
        using var info = JsonDocument.Parse(await context.Http.GetStringAsync($"/api/v1/models/{ModelName}", ct));
        await using var command = context.Db.CreateCommand("select count(*) from mt_events where tenant_id = 'default' and stream_id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = info.RootElement.GetProperty("id").GetGuid() });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, new JsonSerializerOptions(JsonSerializerDefaults.Web)), Encoding.UTF8, "application/json");
}
