using System.Globalization;
using System.Text;
using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// GET /api/v1/models over the seeded catalogue (100,000 models in full mode), one page of the default 50 per
/// request at 1 client, for each kind of query a user or a UI makes. Parameters rotate so no two consecutive
/// requests are the same query.
/// </summary>
public sealed class ListModelsScenario : IScenario
{
    public const double TargetMs = 20;
    public const int FullModeModels = 100_000;

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        // After a large load the API's async projections (audit log, hash chain) catch up for minutes, and their CPU
        // would be charged to these requests.
        var caughtUp = await ProjectionStatus.WaitCaughtUpAsync(context, ct);
        context.Log($"list/search: async projections caught up after {caughtUp.TotalSeconds:0.0} s");
        var names = context.Dataset.CatalogueNames;
        var teams = DatasetGenerator.Teams;
        var kinds = DatasetGenerator.Kinds;
        string Q(string value) => Uri.EscapeDataString(value);

        var queries = new (string Kind, Func<int, string> Path)[]
        {
            ("first page, no filter", _ => "/api/v1/models"),
            ("a page deep in the list (cursor)", i => $"/api/v1/models?cursor={Cursor(names[(names.Count / 3 + i * 7919) % names.Count])}"),
            ("prefix team-kind- (≈ 0.5 % match)", i => $"/api/v1/models?prefix={Q($"{teams[i % teams.Length]}-{kinds[i / teams.Length % kinds.Length]}-")}"),
            ("tag team (≈ 5 % match)", i => $"/api/v1/models?tag={Q("team:" + teams[i % teams.Length])}"),
            ("stage Production (≈ 45 % match)", _ => "/api/v1/models?stage=Production"),
            ("tag cost-center (≈ 0.1 % match)", i => $"/api/v1/models?tag={Q("cost-center:" + DatasetGenerator.CostCenter(i * 37 % DatasetGenerator.CostCenters))}"),
            ("tag team + stage Staging", i => $"/api/v1/models?tag={Q("team:" + teams[i % teams.Length])}&stage=Staging"),
        };

        var scale = names.Count == FullModeModels
            ? $"{names.Count:N0} models"
            : $"{names.Count:N0} models (quick mode; full mode: {FullModeModels:N0})";
        var rows = new List<ResultRow>();
        foreach (var (kind, path) in queries)
        {
            var itemsOnFirst = await ItemsAsync(context, path(0), ct);
            var result = await context.MeasureAsync($"list/search: {kind}", 1, context.Sizes.ListQueriesPerKind,
                (_, i, token) => context.SendAsync(HttpMethod.Get, path(i), null, 200, token), ct);
            var problem = result.Failures > 0 ? $"{result.Failures} unexpected answers; first: {context.FirstFailure}"
                : itemsOnFirst == 0 ? "the query matched nothing, so its time means little" : null;
            rows.Add(new ResultRow($"list/search over {scale}: {kind}",
                $"p99 {LatencyStats.Ms(result.Latency.P99)} (p50 {LatencyStats.Ms(result.Latency.P50)})",
                "—", "—", $"p99 ≤ {TargetMs:0} ms",
                problem is null && result.Latency.P99 <= TargetMs ? Verdict.Pass : Verdict.Fail,
                problem));
        }
        return rows;
    }

    private static async Task<int> ItemsAsync(BenchContext context, string path, CancellationToken ct)
    {
        using var document = JsonDocument.Parse(await context.Http.GetByteArrayAsync(path, ct));
        return document.RootElement.GetProperty("items").GetArrayLength();
    }

    /// <summary>The API's cursor: the last normalized name of a page, base64url without padding.</summary>
    private static string Cursor(string normalizedName) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(normalizedName)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
