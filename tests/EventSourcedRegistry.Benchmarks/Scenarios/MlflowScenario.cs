using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// Issue 14's speed acceptance through MLflow's routes, as the unchanged client calls them (Authorization: Bearer key):
/// <c>registered-models/search</c> with a tag filter over the catalogue (the client's own prompt clause appended,
/// max_results 100 as it sends), p99 ≤ 20 ms; and <c>model-versions/create</c> and <c>transition-stage</c> throughput
/// beside the native endpoints' measured right before them in the same run, on the same models, ≥ 0.90 ×.
/// </summary>
public sealed class MlflowScenario : IScenario
{
    public const double SearchTargetMs = 20;
    public const double RatioTarget = 0.90;
    private const string Prefix = "/api/2.0/mlflow";
    private const string NotAPrompt = "tag.`mlflow.prompt.is_prompt` != 'true'";

    private readonly Dictionary<(string, int), int> _moves = [];

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var caughtUp = await ProjectionStatus.WaitCaughtUpAsync(context, ct);
        context.Log($"mlflow: async projections caught up after {caughtUp.TotalSeconds:0.0} s");
        var rows = new List<ResultRow>();
        var names = context.Dataset.CatalogueNames;
        var scale = names.Count == ListModelsScenario.FullModeModels
            ? $"{names.Count:N0} models"
            : $"{names.Count:N0} models (quick mode; full mode: {ListModelsScenario.FullModeModels:N0})";
        string Q(string value) => Uri.EscapeDataString(value);
        var searches = new (string Kind, Func<int, string> Path)[]
        {
            ("tags.team = '…' (≈ 5 % match)", i => $"{Prefix}/registered-models/search?filter={Q($"tags.team = '{DatasetGenerator.Teams[i % DatasetGenerator.Teams.Length]}' AND {NotAPrompt}")}&max_results=100"),
            ("tags.cost-center = '…' (≈ 0.1 % match)", i => $"{Prefix}/registered-models/search?filter={Q($"tags.`cost-center` = '{DatasetGenerator.CostCenter(i * 37 % DatasetGenerator.CostCenters)}' AND {NotAPrompt}")}&max_results=100"),
        };
        foreach (var (kind, path) in searches)
        {
            var found = await CountAsync(context, path(0), ct);
            var result = await context.MeasureAsync($"mlflow search: {kind}", 1, context.Sizes.ListQueriesPerKind,
                (_, i, token) => Send(context, HttpMethod.Get, path(i), null, token), ct);
            var problem = result.Failures > 0 ? $"{result.Failures} unexpected answers; first: {context.FirstFailure}"
                : found == 0 ? "the query matched nothing, so its time means little" : null;
            rows.Add(new ResultRow($"MLflow registered-models/search over {scale}: {kind}",
                $"p99 {LatencyStats.Ms(result.Latency.P99)} (p50 {LatencyStats.Ms(result.Latency.P50)})",
                "—", "—", $"p99 ≤ {SearchTargetMs:0} ms",
                problem is null && result.Latency.P99 <= SearchTargetMs ? Verdict.Pass : Verdict.Fail, problem));
        }

        // Commands: native first, then MLflow, on the same models, at 1 and 8 clients.
        var dataset = context.Dataset;
        var sizes = context.Sizes;
        var native = RegisterVersionScenario.Body(context.Options.Seed);
        byte[] MlflowCreate(string model) => JsonSerializer.SerializeToUtf8Bytes(new
        {
            name = model, source = "s3://bench-models/churn/model.onnx", run_id = "run-bench", description = "Nightly retrain.",
            tags = new[] { new { key = "framework", value = "xgboost" } },
        });
        foreach (var (clients, operations) in new[] { (1, sizes.Commands1), (Dataset.Clients, sizes.Commands8) })
        {
            var label = clients == 1 ? "1 client" : $"{clients} clients × {clients} models";
            var ours = await context.MeasureAsync($"register version (native), {label}", clients, operations,
                (worker, _, token) => context.SendAsync(HttpMethod.Post, $"/api/v1/models/{dataset.RegisterModels[worker]}/versions", native, 201, token), ct);
            var bodies = dataset.RegisterModels.Select(MlflowCreate).ToArray();
            var theirs = await context.MeasureAsync($"mlflow model-versions/create, {label}", clients, operations,
                (worker, _, token) => Send(context, HttpMethod.Post, $"{Prefix}/model-versions/create", bodies[worker], token), ct);
            rows.Add(Rows.Throughput($"MLflow model-versions/create, {label}", theirs, ours, $"native register version, {label}", RatioTarget, context));

            var promoteNative = await context.MeasureAsync($"promote (native), {label}", clients, operations,
                (worker, _, token) => Move(context, dataset.RegisterModels[worker], mlflow: false, token), ct);
            var promoteMlflow = await context.MeasureAsync($"mlflow transition-stage, {label}", clients, operations,
                (worker, _, token) => Move(context, dataset.RegisterModels[worker], mlflow: true, token), ct);
            rows.Add(Rows.Throughput($"MLflow model-versions/transition-stage, {label}", promoteMlflow, promoteNative, $"native promote, {label}", RatioTarget, context));
        }
        return rows;
    }

    /// <summary>
    /// Each call moves version 1 of the worker's register model (not the promote scenario's models, which that scenario
    /// leaves in either stage) between Staging and Production, whichever route it takes.
    /// </summary>
    private ValueTask<bool> Move(BenchContext context, string model, bool mlflow, CancellationToken ct)
    {
        int moves;
        lock (_moves)
        {
            _moves.TryGetValue((model, 1), out moves);
            _moves[(model, 1)] = moves + 1;
        }
        var stage = moves % 2 == 0 ? "Staging" : "Production";
        return mlflow
            ? Send(context, HttpMethod.Post, $"{Prefix}/model-versions/transition-stage",
                JsonSerializer.SerializeToUtf8Bytes(new { name = model, version = "1", stage, archive_existing_versions = false }), ct)
            : context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions/1/stage",
                JsonSerializer.SerializeToUtf8Bytes(new { stage, reason = "benchmark" }), 200, ct);
    }

    /// <summary>A call as the MLflow client makes it: the key as a Bearer token (MLFLOW_TRACKING_TOKEN); MLflow answers 200.</summary>
    private static async ValueTask<bool> Send(BenchContext context, HttpMethod method, string path, byte[]? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiProcess.AdminKey);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        try
        {
            using var response = await context.Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            if (response.IsSuccessStatusCode) return true;
            context.NoteFailure($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            return false;
        }
        catch (HttpRequestException e)
        {
            context.NoteFailure($"{method} {path} failed: {e.Message}");
            return false;
        }
    }

    private static async Task<int> CountAsync(BenchContext context, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiProcess.AdminKey);
        using var response = await context.Http.SendAsync(request, ct);
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct));
        return document.RootElement.TryGetProperty("registered_models", out var models) ? models.GetArrayLength() : 0;
    }
}
