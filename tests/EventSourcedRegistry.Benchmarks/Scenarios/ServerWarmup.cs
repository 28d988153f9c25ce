using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// Before anything is measured: every endpoint the scenarios use, at 8 clients on models of its own, until the
/// API's JIT tiers, Wolverine's generated handlers and the connection pools have settled. Without it the first
/// scenario pays for a cold server (it did: several ms of JIT CPU per request).
/// </summary>
/// <remarks>
/// Settled is measured, not assumed: rounds are sent in chunks for at least <see cref="MinTime"/>, and the warm-up ends
/// when two chunks in a row then cost the API no less than <see cref="Settled"/> of the CPU per round of the chunk before
/// each (or at <see cref="MaxTime"/>). One such chunk was not enough: the API's CPU per round stayed at 7 ms for three
/// chunks and fell to 4 ms at the next in one run, and a run that stopped at the first flat chunk measured promote at
/// 0.23× where the one before had 0.31×. A fixed 320 rounds was not enough: .NET's tiered compilation with dynamic PGO kept recompiling
/// for about 20,000 commands, and a command cost the API 4.7, 3.4, 2.5, 1.8, 1.5 and 1.5 ms of CPU in six runs of 4,000
/// after a start (issue 17, 7 Dec), so the first scenarios (register at 1 client) were charged for the JIT.
/// </remarks>
public static class ServerWarmup
{
    private const int RoundsPerClient = 40;
    private const double Settled = 0.95;
    private static readonly TimeSpan MinTime = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan MinTimeQuick = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxTimeQuick = TimeSpan.FromSeconds(20);

    public static async Task RunAsync(BenchContext context, CancellationToken ct)
    {
        var body = RegisterVersionScenario.Body(context.Options.Seed);
        var staging = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Staging" });
        var none = JsonSerializer.SerializeToUtf8Bytes(new { stage = "None" });
        var models = context.Dataset.WarmupModels;
        const int rounds = Dataset.Clients * RoundsPerClient;
        var (least, limit) = context.Options.Mode == BenchMode.Quick ? (MinTimeQuick, MaxTimeQuick) : (MinTime, MaxTime);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var perRound = new List<double>();
        var step = 0;
        while (true)
        {
            var before = context.CpuNow();
            var first = step++ * rounds; // a stage answer alternates across chunks too
            await Infrastructure.Load.RunAsync(Dataset.Clients, rounds, async (worker, i, token) =>
            {
                var model = models[worker];
                var ok = await context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions", body, 201, token);
                ok &= await context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions/1/stage", (first + i) % 2 == 0 ? staging : none, 200, token);
                ok &= await context.SendAsync(HttpMethod.Get, $"/api/v1/models/{model}", null, 200, token);
                ok &= await context.SendAsync(HttpMethod.Get, "/api/v1/models?prefix=bench-", null, 200, token);
                ok &= await context.SendAsync(HttpMethod.Get, "/api/v1/models?tag=team:bench", null, 200, token);
                return ok;
            }, ct);
            // Without the API's CPU (no /proc), one chunk, as before.
            if (Infrastructure.CpuMeter.Between(before, context.CpuNow(), rounds) is not { } usage) break;
            perRound.Add(usage.ApiMicros);
            var flat = perRound.Count >= 3 && perRound[^1] >= perRound[^2] * Settled && perRound[^2] >= perRound[^3] * Settled;
            if (clock.Elapsed >= least && flat || clock.Elapsed >= limit) break;
        }
        var settled = perRound.Count == 0 ? "" :
            $": {perRound.Count} × {rounds} rounds in {clock.Elapsed.TotalSeconds:0} s, API CPU per round {string.Join(" → ", perRound.Select(p => $"{p / 1000:0.0}"))} ms";
        context.Log(context.FirstFailure is { } failure ? $"server warm-up done{settled}; an answer was unexpected: {failure}" : $"server warm-up done{settled}");
        context.ResetFailure();
    }
}
