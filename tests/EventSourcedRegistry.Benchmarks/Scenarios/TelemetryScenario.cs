using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>
/// What OpenTelemetry costs when it is on (docs/observability.md): a second API instance on the same database with traces
/// and metrics exported over OTLP/HTTP to a local stand-in collector, against the main instance (telemetry off), on the
/// register and promote commands at 8 clients × 8 models. Measured off, on, on, off so a drift of the shared machine's
/// load during the run weighs on both sides alike; each side's rate is its requests over its time.
/// </summary>
public sealed class TelemetryScenario : IScenario
{
    public async Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await using var sink = OtlpSink.Start();
        await using var api = await ApiProcess.StartAsync(context.ApiAssembly, context.ConnectionString, ct, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "esr-bench",
            // Short enough that several metric exports fall inside a measurement.
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
        });
        using var http = ApiProcess.Authorize(new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseCookies = false })
        {
            BaseAddress = api.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        });
        var on = new BenchContext(context.Options, http, context.Db, context.Dataset, context.Baselines,
            new CpuMeter(api.ProcessId, context.PostgresProcessId), [], context.Log)
        {
            ApiAssembly = context.ApiAssembly,
            ConnectionString = context.ConnectionString,
        };
        context.Log($"telemetry: an API instance exporting to {sink.Endpoint} started");
        await ServerWarmup.RunAsync(on, ct);

        var dataset = context.Dataset;
        var operations = context.Sizes.Commands8;
        var body = RegisterVersionScenario.Body(context.Options.Seed);
        Operation Register(BenchContext side) => (worker, _, token) =>
            side.SendAsync(HttpMethod.Post, $"/api/v1/models/{dataset.RegisterModels[worker]}/versions", body, 201, token);
        var register = await OffOnOnOff(context, on, "register version, 8 clients × 8 models", operations, Register, ct);

        var stages = new Promotions(await CurrentStages(context, dataset, ct));
        Operation Promote(BenchContext side) => (worker, _, token) => stages.Next(side, dataset.PromoteModels[worker], token);
        var promote = await OffOnOnOff(context, on, "promote, 8 clients × 8 models", operations, Promote, ct);

        var exported = $"{sink.Exports} OTLP exports ({sink.Bytes / 1024} KiB) received by the stand-in";
        return [Row(register, on, exported), Row(promote, on, exported)];
    }

    /// <param name="OffApiMicros">The API's CPU per request (µs), mean of the two halves; null where /proc cannot be read.</param>
    private sealed record Pair(string Scenario, LoadResult Off, LoadResult On, double? OffApiMicros, double? OnApiMicros);

    private static async Task<Pair> OffOnOnOff(BenchContext off, BenchContext on, string scenario, int operations,
        Func<BenchContext, Operation> operation, CancellationToken ct)
    {
        var half = operations / 2;
        var offCpu = new List<CpuUsage>();
        var onCpu = new List<CpuUsage>();
        async Task<LoadResult> Measure(BenchContext side, List<CpuUsage> cpu, string label)
        {
            var rowsBefore = side.Cpu.Count;
            var result = await side.MeasureAsync($"{scenario}, {label}", Dataset.Clients, half, operation(side), ct);
            if (side.Cpu.Count > rowsBefore) cpu.Add(side.Cpu[^1].Usage);
            return result;
        }
        var first = await Measure(off, offCpu, "telemetry off (1 of 2)");
        var second = await Measure(on, onCpu, "telemetry on (1 of 2)");
        var third = await Measure(on, onCpu, "telemetry on (2 of 2)");
        var fourth = await Measure(off, offCpu, "telemetry off (2 of 2)");
        double? Mean(List<CpuUsage> cpu) => cpu.Count == 2 ? cpu.Average(u => u.ApiMicros) : null;
        return new Pair(scenario, Combine(first, fourth), Combine(second, third), Mean(offCpu), Mean(onCpu));
    }

    private static LoadResult Combine(LoadResult a, LoadResult b) => a with
    {
        Operations = a.Operations + b.Operations,
        Elapsed = a.Elapsed + b.Elapsed,
        Failures = a.Failures + b.Failures,
        // The worse of the two halves' percentiles: a merged distribution is not kept.
        Latency = a.Latency with { P50 = Math.Max(a.Latency.P50, b.Latency.P50), P99 = Math.Max(a.Latency.P99, b.Latency.P99) },
    };

    private static ResultRow Row(Pair pair, BenchContext on, string exported)
    {
        var load = on.Cpu.LastOrDefault()?.Usage is { } usage ? $"; machine {usage.MachineBusyPercent:0} % busy, {usage.OthersPercent:0} % other work" : "";
        var failures = pair.On.Failures + pair.Off.Failures;
        return new ResultRow($"{pair.Scenario}: traces + metrics over OTLP",
            $"{LoadResult.Rate(pair.On.PerSecond, "req/s")} ({pair.On.Latency.Describe()})",
            $"{LoadResult.Rate(pair.Off.PerSecond, "req/s")} telemetry off ({pair.Off.Latency.Describe()})",
            ResultRow.Times(pair.On.PerSecond / pair.Off.PerSecond),
            "reported",
            Verdict.Info,
            exported + load + ApiCpu(pair) + (failures > 0 ? $"; {failures} unexpected answers, first: {on.FirstFailure}" : ""));
    }

    private static string ApiCpu(Pair pair) => pair is { OnApiMicros: { } on, OffApiMicros: { } off }
        ? $"; API CPU per request {on:0} µs on, {off:0} µs off ({ResultRow.Times(on / off)})"
        : "";

    /// <summary>Version 1's stage of each promote model now (the promote scenario may have moved them).</summary>
    private static async Task<Dictionary<string, string>> CurrentStages(BenchContext context, Dataset dataset, CancellationToken ct)
    {
        var stages = new Dictionary<string, string>();
        foreach (var model in dataset.PromoteModels.Take(Dataset.Clients))
        {
            var version = await context.Http.GetFromJsonAsync<JsonObject>($"/api/v1/models/{model}/versions/1", ct);
            stages[model] = version?["stage"]?.GetValue<string>() ?? "None";
        }
        return stages;
    }

    /// <summary>Each worker's version moves between Staging and Production, from wherever it stands, whichever instance moves it.</summary>
    private sealed class Promotions(Dictionary<string, string> stages)
    {
        private static readonly byte[] ToStaging = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Staging", reason = "benchmark: candidate" });
        private static readonly byte[] ToProduction = JsonSerializer.SerializeToUtf8Bytes(new { stage = "Production", reason = "benchmark: promote" });

        public ValueTask<bool> Next(BenchContext side, string model, CancellationToken ct)
        {
            bool toProduction;
            // Each model belongs to one worker, so only the dictionary itself needs the lock.
            lock (stages)
            {
                toProduction = stages[model] == "Staging";
                stages[model] = toProduction ? "Production" : "Staging";
            }
            return side.SendAsync(HttpMethod.Post, $"/api/v1/models/{model}/versions/1/stage", toProduction ? ToProduction : ToStaging, 200, ct);
        }
    }
}
