using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// POST /api/v1/models/{name}/versions/{v}/stage: each worker moves its own version back and forth between
/// Staging and Production (one event per request), at 1 client, 8 clients on 8 models, and 8 clients on 8
/// versions of one model (contention on the stream: against the 1-client rate of the same run).
/// </summary>
public sealed class PromoteScenario : IScenario
{
    private static readonly byte[] ToStaging = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Staging", reason = "benchmark: candidate" });
    private static readonly byte[] ToProduction = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Production", reason = "benchmark: promote" });

    // Transitions done per (model, version): the next one alternates from the seeded initial stage, None.
    private readonly Dictionary<(string, int), int> _moves = [];

    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var dataset = context.Dataset;
        var sizes = context.Sizes;

        var one = await context.MeasureAsync("promote, 1 client", 1, sizes.Commands1,
            (_, _, token) => Promote(context, dataset.PromoteModels[0], 1, token), ct);
        var eight = await context.MeasureAsync("promote, 8 clients × 8 models", Dataset.Clients, sizes.Commands8,
            (worker, _, token) => Promote(context, dataset.PromoteModels[worker], 1, token), ct);
        var contended = await context.MeasureAsync("promote, 8 clients × 1 model", Dataset.Clients, sizes.ContendedCommands,
            (worker, _, token) => Promote(context, dataset.ContendedPromoteModel, worker + 1, token), ct);

        var baselines = context.Baselines;
        return
        [
            Rows.Throughput("promote (stage transition), 1 client", one, baselines.MartenShaped1, "Marten-shaped, 1 client", Rows.CommandThroughputTarget, context),
            Rows.Throughput("promote, 8 clients × 8 models", eight, baselines.MartenShaped8, "Marten-shaped, 8 clients", Rows.CommandThroughputTarget, context),
            Rows.Contention("promote, 8 clients × 8 versions of 1 model (contention)", contended, one, context),
        ];
    }

    private ValueTask<bool> Promote(BenchContext context, string model, int version, CancellationToken ct)
    {
        int moves;
        // Each (model, version) belongs to one worker at a time, so only the dictionary itself needs the lock.
        lock (_moves)
        {
            _moves.TryGetValue((model, version), out moves);
            _moves[(model, version)] = moves + 1;
        }
        return context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions/{version}/stage",
            moves % 2 == 0 ? ToStaging : ToProduction, 200, ct);
    }
}
