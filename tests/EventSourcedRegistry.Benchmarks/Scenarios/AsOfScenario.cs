using System.Diagnostics;
using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// Time travel at the store's high-water mark when the scenario starts (every loaded model exists then):
/// <c>GET /api/v1/registry?atSequence=&amp;limit=1000</c> for the first page and for every page following
/// <c>nextCursor</c>, and <c>GET /api/v1/models/{name}?atSequence=</c> of the model with the long history,
/// which replays all its events. 1 client, per-request latency, body read to the end.
/// </summary>
public sealed class AsOfScenario : IScenario
{
    public const double PageTargetMs = 50;
    public const double AllPagesTargetMs = 500;
    public const double ModelTargetMs = 20;
    public const int PageSize = 1000;

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        // The async daemon catching up on the loaded events (audit log, hash chain) would otherwise share the API's and
        // PostgreSQL's CPU with these reads; the scenarios after this one wait for it as well.
        var caughtUp = await ProjectionStatus.WaitCaughtUpAsync(context, ct);
        context.Log($"as-of: async projections caught up after {caughtUp.TotalSeconds:0.0} s more");
        var status = await ProjectionStatus.GetAsync(context.Http, ct);
        var highWaterMark = status.GetProperty("highWaterMark").GetInt64();
        var asOf = context.Dataset.AsOf;
        var sequence = asOf?.Sequence ?? highWaterMark;
        var scale = asOf is { } set
            ? $"at sequence {sequence:N0}: {set.Models:N0} models, {set.Events:N0} events"
            : $"at sequence {sequence:N0}, {context.Dataset.CatalogueNames.Count:N0}+ models ({context.Options.ModeName} mode; the issue's dataset, in full mode: 1,000,000 events / 10,000 models)";
        var firstPage = $"/api/v1/registry?atSequence={sequence}&limit={PageSize}";
        var failures = 0;
        string? firstFailure = null;

        async Task<string?> GetAsync(string path)
        {
            using var response = await context.Http.GetAsync(path, HttpCompletionOption.ResponseContentRead, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if ((int)response.StatusCode == 200) return System.Text.Encoding.UTF8.GetString(body);
            failures++;
            firstFailure ??= $"GET {path} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)[..Math.Min(300, body.Length)]}";
            return null;
        }

        async Task<int> AllPagesAsync()
        {
            var path = firstPage;
            var pages = 0;
            while (path is not null)
            {
                var body = await GetAsync(path);
                if (body is null) return pages;
                pages++;
                using var doc = JsonDocument.Parse(body);
                path = doc.RootElement.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String
                    ? $"{firstPage}&cursor={Uri.EscapeDataString(next.GetString()!)}"
                    : null;
            }
            return pages;
        }

        async Task<LatencyStats> TimeAsync(string name, int n, Func<Task> once)
        {
            for (var i = 0; i < Math.Max(3, n / 10); i++) await once();
            var ticks = new List<long>(n);
            var before = context.CpuNow();
            for (var i = 0; i < n; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                await once();
                ticks.Add(Stopwatch.GetTimestamp() - t0);
            }
            context.RecordCpu(name, before, n);
            var stats = LatencyStats.FromTicks(ticks);
            context.Log($"{name}: {stats.Describe()}");
            return stats;
        }

        var mismatch = await BulkViewsAgreeWithReplayAsync(context, highWaterMark, ct);
        if (mismatch is not null)
        {
            failures++;
            firstFailure ??= mismatch;
        }
        var pageCount = await AllPagesAsync();
        var pageN = Math.Max(30, context.Sizes.ListQueriesPerKind / 10);
        var page = await TimeAsync("as-of registry, one page", pageN, async () => await GetAsync(firstPage));
        var all = await TimeAsync("as-of registry, all pages", Math.Max(10, pageN / 5), async () => await AllPagesAsync());
        var modelPath = $"/api/v1/models/{context.Dataset.LongHistory.Name}?atSequence={sequence}";
        var model = await TimeAsync("as-of model, long history", Math.Max(100, context.Sizes.ModelReads / 10), async () => await GetAsync(modelPath));

        var failed = failures > 0 ? $"{failures} unexpected answers; first: {firstFailure}" : null;
        ResultRow Row(string scenario, LatencyStats s, double targetMs, string note) => new(scenario,
            $"p99 {LatencyStats.Ms(s.P99)} (p50 {LatencyStats.Ms(s.P50)})", "—", "—", $"p99 ≤ {targetMs:0} ms",
            failed is null && s.P99 <= targetMs ? Verdict.Pass : Verdict.Fail, failed ?? note);
        return
        [
            Row($"as-of: whole registry {scale}, one page of {PageSize:N0} models", page, PageTargetMs, $"{page.Count} requests, 1 client."),
            Row($"as-of: whole registry, all {pageCount} pages", all, AllPagesTargetMs, $"{all.Count} walks of every page, 1 client."),
            Row($"as-of: one model with {context.Dataset.LongHistory.Events:N0} events", model, ModelTargetMs, $"{model.Count} requests, 1 client; the nearest model-view snapshot (every 100 events) plus the events after it."),
        ];
    }

    /// <summary>
    /// The bulk loader derives the views itself; check a sample against the API's own answers: each model of the first
    /// registry page at the high-water mark (intervals) and its as-of read (snapshot plus replay) must agree with its
    /// current view (documents). Null when they do, else what differs.
    /// </summary>
    private static async Task<string?> BulkViewsAgreeWithReplayAsync(BenchContext context, long highWaterMark, CancellationToken ct)
    {
        using var page = JsonDocument.Parse(await context.Http.GetStringAsync($"/api/v1/registry?atSequence={highWaterMark}&limit=20", ct));
        var checkedModels = new List<string>();
        foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
        {
            var name = item.GetProperty("model").GetString()!;
            using var now = JsonDocument.Parse(await context.Http.GetStringAsync($"/api/v1/models/{name}", ct));
            using var then = JsonDocument.Parse(await context.Http.GetStringAsync($"/api/v1/models/{name}?atSequence={highWaterMark}", ct));
            foreach (var part in new[] { "versionsByStage", "aliases", "deployments" })
            {
                var current = Canonical(now.RootElement.GetProperty(part));
                if (current != Canonical(item.GetProperty(part)) || current != Canonical(then.RootElement.GetProperty(part)))
                    return $"model {name}: {part} differ between its view {current}, the registry {Canonical(item.GetProperty(part))} " +
                        $"and the replay {Canonical(then.RootElement.GetProperty(part))}";
            }
            checkedModels.Add(name);
        }
        context.Log($"as-of: views, intervals and replay agree for {checkedModels.Count} models of the first registry page");
        return null;
    }

    private static string Canonical(JsonElement map) =>
        string.Join(";", map.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value.GetRawText()}"));
}
