using EventSourcedRegistry.Benchmarks.Infrastructure;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

/// <summary>How the scenarios turn measurements into table rows, so every row reads the same way.</summary>
public static class Rows
{
    public const double CommandThroughputTarget = 0.5; // issue 17 (was 0.35)

    /// <summary>Issue 17: eight clients on one model reach at least this share of one client's rate on it, with no failure.</summary>
    public const double ContentionTarget = 0.8;

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

    /// <summary>
    /// Eight clients on one model against one client of the same run (issue 17): commands on one model take turns on
    /// its stream, so the most they can do together is what one client does alone; the row fails on any unexpected
    /// answer (409 "Too much contention" included), whatever the ratio.
    /// </summary>
    public static ResultRow Contention(string scenario, LoadResult ours, LoadResult oneClient, BenchContext context)
    {
        var ratio = ours.PerSecond / oneClient.PerSecond;
        return new ResultRow(scenario,
            $"{LoadResult.Rate(ours.PerSecond, "req/s")} ({ours.Latency.Describe()})",
            $"{LoadResult.Rate(oneClient.PerSecond, "req/s")} 1 client, same run",
            ResultRow.Times(ratio),
            $"≥ {ContentionTarget:0.00}×, no failure",
            ours.Failures == 0 && ratio >= ContentionTarget ? Verdict.Pass : Verdict.Fail,
            ours.Failures > 0 ? $"{ours.Failures} of {ours.Operations} requests got an unexpected answer; first: {context.FirstFailure}" : null);
    }
}
