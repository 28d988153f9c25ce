using System.Diagnostics;
using EventSourcedRegistry.Benchmarks.Baselines;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// GET /api/v1/models/{name} at 1 client for a model with 10 events and one with 10,000, interleaved request by
/// request with a raw primary-key read of the same view document, so all three see the same machine load.
/// </summary>
public sealed class ReadModelScenario : IScenario
{
    public const double AbsoluteFloorMs = 1.0;
    public const double PointReadFactor = 10.0;
    public const double HistoryRatioTarget = 1.1; // issue 17 (was 1.2)

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var dataset = context.Dataset;
        var shortPath = $"/api/v1/models/{dataset.ShortHistory.Name}";
        var longPath = $"/api/v1/models/{dataset.LongHistory.Name}";
        var shortBytes = (await context.Http.GetByteArrayAsync(shortPath, ct)).Length;
        var longBytes = (await context.Http.GetByteArrayAsync(longPath, ct)).Length;

        await using var connection = await context.Db.OpenConnectionAsync(ct);
        var n = context.Sizes.ModelReads;
        var shortTicks = new List<long>(n);
        var longTicks = new List<long>(n);
        var pointTicks = new List<long>(n);
        var failures = 0;

        async Task Round(bool measured)
        {
            var t0 = Stopwatch.GetTimestamp();
            if (!await context.SendAsync(HttpMethod.Get, shortPath, null, 200, ct)) failures++;
            var t1 = Stopwatch.GetTimestamp();
            if (!await context.SendAsync(HttpMethod.Get, longPath, null, 200, ct)) failures++;
            var t2 = Stopwatch.GetTimestamp();
            if (!await NpgsqlBaselines.PointReadOnceAsync(connection, dataset.ShortHistory.Id, ct)) failures++;
            var t3 = Stopwatch.GetTimestamp();
            if (!measured) return;
            shortTicks.Add(t1 - t0);
            longTicks.Add(t2 - t1);
            pointTicks.Add(t3 - t2);
        }

        for (var i = 0; i < BenchSizes.WarmupFor(n); i++) await Round(measured: false);
        failures = 0;
        context.ResetFailure();
        var before = context.CpuNow();
        for (var i = 0; i < n; i++) await Round(measured: true);
        context.RecordCpu("read model view (both models + raw read, per round)", before, n);

        var small = LatencyStats.FromTicks(shortTicks);
        var large = LatencyStats.FromTicks(longTicks);
        var point = LatencyStats.FromTicks(pointTicks);
        context.Log($"read model view: {dataset.ShortHistory.Events}-event {small.Describe()}, {dataset.LongHistory.Events:N0}-event {large.Describe()}, raw {point.Describe()}");

        var limit = Math.Max(AbsoluteFloorMs, PointReadFactor * point.P99);
        var failed = failures > 0 ? $"{failures} unexpected answers; first: {context.FirstFailure}" : null;
        ResultRow Absolute(string scenario, LatencyStats ours) => new(scenario,
            $"p99 {LatencyStats.Ms(ours.P99)} (p50 {LatencyStats.Ms(ours.P50)})",
            $"p99 {LatencyStats.Ms(point.P99)} raw PK read, interleaved (p50 {LatencyStats.Ms(point.P50)})",
            ResultRow.Times(ours.P99 / point.P99),
            $"p99 ≤ max(1 ms, 10 × baseline) = {LatencyStats.Ms(limit)}",
            failed is null && ours.P99 <= limit ? Verdict.Pass : Verdict.Fail,
            failed);

        var historyRatio = large.P99 / small.P99;
        return
        [
            Absolute($"read model view ({dataset.ShortHistory.Events} events), 1 client", small),
            Absolute($"read model view ({dataset.LongHistory.Events:N0} events), 1 client", large),
            new ResultRow($"read: {dataset.LongHistory.Events:N0}-event model vs {dataset.ShortHistory.Events}-event model",
                $"p99 {LatencyStats.Ms(large.P99)} (p50 {LatencyStats.Ms(large.P50)})",
                $"p99 {LatencyStats.Ms(small.P99)} (p50 {LatencyStats.Ms(small.P50)})",
                ResultRow.Times(historyRatio),
                $"≤ {HistoryRatioTarget:0.00}×",
                failed is null && historyRatio <= HistoryRatioTarget ? Verdict.Pass : Verdict.Fail,
                $"The views are {longBytes:N0} and {shortBytes:N0} bytes of JSON: the long history's view lists every archived version; neither read replays events." +
                (failed is null ? "" : " " + failed)),
        ];
    }
}
