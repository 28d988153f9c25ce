using System.Diagnostics;
using System.Globalization;

namespace EventSourcedRegistry.Benchmarks.Infrastructure;

/// <summary>One operation of a load run; returns false when the answer was not the expected one.</summary>
public delegate ValueTask<bool> Operation(int worker, int iteration, CancellationToken ct);

/// <summary>Latencies of one measurement, in milliseconds.</summary>
public sealed record LatencyStats(int Count, double P50, double P99, double Max, double Mean)
{
    public static LatencyStats FromTicks(IReadOnlyCollection<long> ticks)
    {
        if (ticks.Count == 0) return new LatencyStats(0, 0, 0, 0, 0);
        var ms = ticks.Select(t => t * 1000.0 / Stopwatch.Frequency).ToArray();
        Array.Sort(ms);
        return new LatencyStats(ms.Length, Percentile(ms, 0.50), Percentile(ms, 0.99), ms[^1], ms.Average());
    }

    // Nearest rank: the smallest sample with at least p of all samples at or below it.
    private static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public string Describe() => $"p50 {Ms(P50)} · p99 {Ms(P99)}";

    public static string Ms(double ms) => ms switch
    {
        < 1 => ms.ToString("0.000", CultureInfo.InvariantCulture) + " ms",
        < 100 => ms.ToString("0.00", CultureInfo.InvariantCulture) + " ms",
        _ => ms.ToString("0", CultureInfo.InvariantCulture) + " ms",
    };
}

public sealed record LoadResult(int Clients, int Operations, TimeSpan Elapsed, LatencyStats Latency, int Failures)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    public static string Rate(double perSecond, string unit) =>
        perSecond.ToString(perSecond < 100 ? "0.0" : "#,0", CultureInfo.InvariantCulture) + " " + unit;
}

/// <summary>
/// A closed-loop load generator: N workers, each doing its share of a fixed number of operations back to back,
/// all released at once; throughput is operations over the wall time until the last worker finishes.
/// </summary>
public static class Load
{
    public static async Task<LoadResult> RunAsync(int clients, int operations, Operation operation, CancellationToken ct)
    {
        var latencies = new long[clients][];
        var failures = 0;
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = new Task[clients];
        for (var w = 0; w < clients; w++)
        {
            var worker = w;
            var share = operations / clients + (worker < operations % clients ? 1 : 0);
            workers[w] = Task.Run(async () =>
            {
                var mine = new long[share];
                await go.Task;
                for (var i = 0; i < share; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    var ok = await operation(worker, i, ct);
                    mine[i] = Stopwatch.GetTimestamp() - started;
                    if (!ok) Interlocked.Increment(ref failures);
                }
                latencies[worker] = mine;
            }, ct);
        }

        var clock = Stopwatch.StartNew();
        go.SetResult();
        await Task.WhenAll(workers);
        clock.Stop();
        return new LoadResult(clients, operations, clock.Elapsed, LatencyStats.FromTicks(latencies.SelectMany(l => l).ToArray()), failures);
    }

    /// <summary>A warm-up of the same operation, then the measured run.</summary>
    public static async Task<LoadResult> WarmThenRunAsync(int clients, int operations, Operation operation, CancellationToken ct)
    {
        await RunAsync(clients, BenchSizes.WarmupFor(operations), operation, ct);
        return await RunAsync(clients, operations, operation, ct);
    }
}
