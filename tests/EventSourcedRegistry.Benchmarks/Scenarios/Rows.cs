using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>How the scenarios turn measurements into table rows, so every row reads the same way.</summary>
public static class Rows
{
    public const double CommandThroughputTarget = 0.35;

    /// <summary>Our requests/s against a baseline's transactions/s; pass when the ratio reaches the target (none: reported only).</summary>
    public static ResultRow Throughput(string scenario, LoadResult ours, LoadResult baseline, string baselineName, double? target, BenchContext context)
    {
        var ratio = ours.PerSecond / baseline.PerSecond;
        // A row without a target (contention) reports what clients got, 409 "too much contention" included.
        var verdict = target is not { } t ? Verdict.Info
            : ours.Failures == 0 && ratio >= t ? Verdict.Pass
            : Verdict.Fail;
        return new ResultRow(scenario,
            $"{LoadResult.Rate(ours.PerSecond, "req/s")} ({ours.Latency.Describe()})",
            $"{LoadResult.Rate(baseline.PerSecond, "tx/s")} {baselineName}",
            ResultRow.Times(ratio),
            target is { } x ? $"≥ {x:0.00}×" : "reported",
            verdict,
            ours.Failures > 0 ? $"{ours.Failures} of {ours.Operations} requests got an unexpected answer; first: {context.FirstFailure}" : null);
    }
}
