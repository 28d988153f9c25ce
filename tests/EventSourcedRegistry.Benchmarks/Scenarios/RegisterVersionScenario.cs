using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// POST /api/v1/models/{name}/versions, the command every training pipeline sends: at 1 client, at 8 clients on 8
/// models (no contention), each against the Marten-shaped transaction at the same client count; and at 8 clients on
/// one model (the commands take turns on the stream's lock), against the 1-client rate of the same run.
/// </summary>
public sealed class RegisterVersionScenario : IScenario
{
    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var body = Body(context.Options.Seed);
        var dataset = context.Dataset;
        var sizes = context.Sizes;
        string PathOf(string model) => $"/api/v1/models/{model}/versions";

        var one = await context.MeasureAsync("register version, 1 client", 1, sizes.Commands1,
            (_, _, token) => context.SendAsync(HttpMethod.Post, PathOf(dataset.RegisterModels[0]), body, 201, token), ct);
        var eight = await context.MeasureAsync("register version, 8 clients × 8 models", Dataset.Clients, sizes.Commands8,
            (worker, _, token) => context.SendAsync(HttpMethod.Post, PathOf(dataset.RegisterModels[worker]), body, 201, token), ct);
        var contended = await context.MeasureAsync("register version, 8 clients × 1 model", Dataset.Clients, sizes.ContendedCommands,
            (_, _, token) => context.SendAsync(HttpMethod.Post, PathOf(dataset.ContendedRegisterModel), body, 201, token), ct);

        var baselines = context.Baselines;
        return
        [
            Rows.Throughput("register version, 1 client", one, baselines.MartenShaped1, "Marten-shaped, 1 client", Rows.CommandThroughputTarget, context),
            Rows.Throughput("register version, 8 clients × 8 models", eight, baselines.MartenShaped8, "Marten-shaped, 8 clients", Rows.CommandThroughputTarget, context),
            Rows.Contention("register version, 8 clients × 1 model (contention)", contended, one, context),
        ];
    }

    /// <summary>A realistic registration: external artifact, lineage with a dataset, params, metrics, tags.</summary>
    public static byte[] Body(int seed)
    {
        var rng = new Random(seed);
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            artifact = new { uri = "s3://bench-models/churn/model.onnx", sha256 = DatasetGenerator.Hex(rng, 32), sizeBytes = 48_213_775 },
            lineage = new
            {
                runId = "run-" + DatasetGenerator.Hex(rng, 6),
                sourceRepository = "https://git.example.com/ml/models",
                sourceCommit = DatasetGenerator.Hex(rng, 20),
                datasets = new[] { new { uri = "s3://bench-data/churn/train.parquet", digest = "sha256:" + DatasetGenerator.Hex(rng, 32) } },
            },
            @params = new Dictionary<string, string> { ["learning_rate"] = "0.05", ["max_depth"] = "8", ["epochs"] = "20" },
            metrics = new Dictionary<string, double> { ["auc"] = 0.9132, ["logloss"] = 0.2311 },
            tags = new Dictionary<string, string> { ["framework"] = "xgboost" },
            description = "Nightly retrain.",
        });
    }
}
