using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>Reads <c>GET /api/v1/admin/projections</c>: the API's own word on how far each projection is.</summary>
internal static class ProjectionStatus
{
    public static readonly TimeSpan CatchUpTimeout = TimeSpan.FromMinutes(5);

    public static async Task<JsonElement> GetAsync(HttpClient http, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(await http.GetByteArrayAsync("/api/v1/admin/projections", ct));
        return doc.RootElement.Clone();
    }

    /// <summary>Waits until every async projection (the audit log among them) has processed every event; returns how long that took.</summary>
    public static Task<TimeSpan> WaitCaughtUpAsync(BenchContext context, CancellationToken ct) => WaitCaughtUpAsync(context.Http, ct);

    /// <inheritdoc cref="WaitCaughtUpAsync(BenchContext, CancellationToken)"/>
    public static async Task<TimeSpan> WaitCaughtUpAsync(HttpClient http, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var status = await GetAsync(http, ct);
            var lag = status.GetProperty("projections").EnumerateArray().Select(p => p.GetProperty("lag").GetInt64()).DefaultIfEmpty(0).Max();
            if (lag == 0) return watch.Elapsed;
            if (watch.Elapsed > CatchUpTimeout)
                throw new TimeoutException($"the async projections are still {lag:N0} events behind after {CatchUpTimeout.TotalSeconds:0} s");
            await Task.Delay(100, ct);
        }
    }
}

/// <summary>
/// <c>POST /api/v1/admin/projections/rebuild</c> of every projection over the loaded dataset, polled until it is no
/// longer running. Ours = events in the store ÷ wall time from the request to the finished status, as a client sees
/// it; the per-view reports the API gives are in the note. Baseline: the raw COPY out of mt_events of this run.
/// </summary>
public sealed class RebuildScenario : IScenario
{
    /// <summary>Issue 17: at least this many events per second and this share of the raw COPY out of the same run (was 20,000 alone).</summary>
    public const double TargetEventsPerSecond = 30_000;
    public const double TargetCopyRatio = 0.25;

    /// <summary>The API's own limit for rebuilding an async projection; the full dataset's inline views take minutes at today's speed.</summary>
    private static readonly TimeSpan RebuildTimeout = TimeSpan.FromMinutes(30);

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        const string scenario = "projection rebuild, all projections";
        var copy = $"raw COPY {LoadResult.Rate(context.Baselines.CopyOut.EventsPerSecond, "events/s")}";
        var target = $"≥ {TargetEventsPerSecond:#,0} events/s and ≥ {TargetCopyRatio:0.00}× raw COPY";
        await ProjectionStatus.WaitCaughtUpAsync(context, ct); // the daemon catching up on the loaded data is not the rebuild

        var before = context.CpuNow();
        var watch = Stopwatch.StartNew();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/projections/rebuild"))
        {
            request.Content = new ByteArrayContent("{}"u8.ToArray());
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await context.Http.SendAsync(request, ct);
            if ((int)response.StatusCode != 202)
                return [new ResultRow(scenario, "failed", copy, "—", target, Verdict.Fail,
                    $"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}")];
        }
        JsonElement rebuild;
        while (true)
        {
            rebuild = (await ProjectionStatus.GetAsync(context.Http, ct)).GetProperty("rebuild");
            if (rebuild.ValueKind == JsonValueKind.Object && rebuild.GetProperty("state").GetString() != "running") break;
            if (watch.Elapsed > RebuildTimeout)
                return [new ResultRow(scenario, "timed out", copy, "—", target, Verdict.Fail, $"still running after {watch.Elapsed.TotalSeconds:0} s")];
            await Task.Delay(50, ct);
        }
        var wall = watch.Elapsed;
        var total = rebuild.GetProperty("eventsTotal").GetInt64();
        context.RecordCpu(scenario + " (per event)", before, (int)Math.Max(1, total));

        var state = rebuild.GetProperty("state").GetString();
        var reports = new StringBuilder();
        foreach (var r in rebuild.GetProperty("reports").EnumerateArray())
        {
            if (reports.Length > 0) reports.Append("; ");
            reports.Append(CultureInfo.InvariantCulture, $"{r.GetProperty("view").GetString()} {r.GetProperty("events").GetInt64():N0} events in {r.GetProperty("elapsed").GetString()}");
            if (r.TryGetProperty("eventsPerSecond", out var eps)) reports.Append(CultureInfo.InvariantCulture, $" ({eps.GetDouble():#,0} events/s)");
            if (r.TryGetProperty("differences", out var diff) && diff.GetInt64() > 0) reports.Append(CultureInfo.InvariantCulture, $", {diff.GetInt64():N0} differences");
        }
        var perSecond = total / wall.TotalSeconds;
        context.Log($"{scenario}: {state}, {total:N0} events in {wall.TotalSeconds:0.00} s = {perSecond:#,0} events/s; {reports}");
        if (state != "succeeded")
            return [new ResultRow(scenario, state ?? "?", copy, "—", target, Verdict.Fail,
                rebuild.TryGetProperty("error", out var error) ? error.ToString() : "no error given")];
        return
        [
            new ResultRow($"{scenario} over {total:N0} events", LoadResult.Rate(perSecond, "events/s") + $" ({wall.TotalSeconds:0.0} s wall)",
                copy, ResultRow.Times(perSecond / context.Baselines.CopyOut.EventsPerSecond), target,
                perSecond >= TargetEventsPerSecond && perSecond >= TargetCopyRatio * context.Baselines.CopyOut.EventsPerSecond ? Verdict.Pass : Verdict.Fail,
                $"Request to finished status, polled every 50 ms; the API's own reports: {reports}."),
        ];
    }
}

/// <summary>
/// <c>GET /api/v1/audit</c> as NDJSON, the whole log, after the audit projection has caught up. Ours = lines read
/// ÷ wall time of the request with the body read to the end. Baseline: the raw COPY out of mt_events of this run.
/// </summary>
public sealed class AuditExportScenario : IScenario
{
    public const double TargetEventsPerSecond = 100_000;

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        const string scenario = "audit export (NDJSON), whole log";
        var copy = $"raw COPY {LoadResult.Rate(context.Baselines.CopyOut.EventsPerSecond, "events/s")}";
        var target = $"≥ {TargetEventsPerSecond:#,0} events/s";
        var caughtUp = await ProjectionStatus.WaitCaughtUpAsync(context, ct);
        context.Log($"audit projection caught up after {caughtUp.TotalSeconds:0.0} s more");

        async Task<(long Lines, long Bytes, TimeSpan Wall, int Status)> ExportOnce()
        {
            var watch = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit");
            request.Headers.Accept.ParseAdd("application/x-ndjson");
            using var response = await context.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[1 << 16];
            long lines = 0, bytes = 0;
            int n;
            while ((n = await body.ReadAsync(buffer, ct)) > 0)
            {
                bytes += n;
                lines += buffer.AsSpan(0, n).Count((byte)'\n');
            }
            return (lines, bytes, watch.Elapsed, (int)response.StatusCode);
        }

        await ExportOnce(); // warm-up
        var before = context.CpuNow();
        var (lines, bytes, wall, status) = await ExportOnce();
        context.RecordCpu(scenario + " (per event)", before, (int)Math.Max(1, lines));
        if (status != 200)
            return [new ResultRow(scenario, "failed", copy, "—", target, Verdict.Fail, $"GET /api/v1/audit answered {status}")];
        var perSecond = lines / wall.TotalSeconds;
        context.Log($"{scenario}: {lines:N0} events, {bytes / 1048576.0:0.0} MiB in {wall.TotalSeconds:0.00} s = {perSecond:#,0} events/s");
        return
        [
            new ResultRow($"{scenario}, {lines:N0} events",
                LoadResult.Rate(perSecond, "events/s") + $" ({bytes / wall.TotalSeconds / 1048576.0:0} MB/s)",
                copy, ResultRow.Times(perSecond / context.Baselines.CopyOut.EventsPerSecond), target,
                perSecond >= TargetEventsPerSecond ? Verdict.Pass : Verdict.Fail,
                "One request, body read to the end by the client, after one warm-up export; waited for the audit projection to catch up first."),
        ];
    }
}
