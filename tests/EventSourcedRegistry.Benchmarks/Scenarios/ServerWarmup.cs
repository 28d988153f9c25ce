using System.Text.Json;
using EventSourcedRegistry.Benchmarks.Data;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// Before anything is measured: every endpoint the scenarios use, at 8 clients on models of its own, until the
/// API's JIT tiers, Wolverine's generated handlers and the connection pools have settled. Without it the first
/// scenario pays for a cold server (it did: several ms of JIT CPU per request).
/// </summary>
public static class ServerWarmup
{
    private const int RoundsPerClient = 40;

    public static async Task RunAsync(BenchContext context, CancellationToken ct)
    {
        var body = RegisterVersionScenario.Body(context.Options.Seed);
        var staging = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Staging" });
        var none = JsonSerializer.SerializeToUtf8Bytes(new { stage = "None" });
        var models = context.Dataset.WarmupModels;
        await Infrastructure.Load.RunAsync(Dataset.Clients, Dataset.Clients * RoundsPerClient, async (worker, i, token) =>
        {
            var model = models[worker];
            var ok = await context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions", body, 201, token);
            ok &= await context.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions/1/stage", i % 2 == 0 ? staging : none, 200, token);
            ok &= await context.SendAsync(HttpMethod.Get, $"/api/v1/models/{model}", null, 200, token);
            ok &= await context.SendAsync(HttpMethod.Get, "/api/v1/models?prefix=bench-", null, 200, token);
            ok &= await context.SendAsync(HttpMethod.Get, "/api/v1/models?tag=team:bench", null, 200, token);
            return ok;
        }, ct);
        context.Log(context.FirstFailure is { } failure ? $"server warm-up done; an answer was unexpected: {failure}" : "server warm-up done");
        context.ResetFailure();
    }
}
