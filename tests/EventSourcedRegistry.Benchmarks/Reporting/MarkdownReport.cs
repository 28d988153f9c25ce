using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EventSourcedRegistry.Benchmarks.Baselines;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;
using EventSourcedRegistry.Benchmarks.Scenarios;

namespace EventSourcedRegistry.Benchmarks.Reporting;

public sealed record RunFacts(
    BenchOptions Options,
    DateTimeOffset Started,
    TimeSpan Duration,
    ServerFacts Server,
    string ApiAssembly,
    Dataset? Dataset,
    CpuUsage? LoadCpu,
    BaselineResults? Baselines,
    IReadOnlyList<ResultRow> Rows,
    IReadOnlyList<CpuRow> Cpu);

/// <summary>The results file: the table of targets, then the baselines, the CPU breakdown and the setup it ran on.</summary>
public static class MarkdownReport
{
    private static string Only(BenchOptions options) =>
        options.Only.Count > 0 ? $" · only {string.Join(", ", options.Only)} (--only)" : "";

    public static string Render(RunFacts run)
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine(inv, $"## Benchmark results: {run.Options.ModeName} mode");
        s.AppendLine();
        s.AppendLine(inv, $"{run.Started:yyyy-MM-dd HH:mm} UTC · {Environment.ProcessorCount} cores (shared with other work) · " +
                          $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture} · .NET {Environment.Version} · " +
                          $"{run.Server.Describe()} · API {BuildInfo.Configuration} build as a child process on Kestrel (loopback) · " +
                          $"seed {run.Options.Seed} · run took {run.Duration.TotalSeconds:0} s{Only(run.Options)}");
        s.AppendLine();
        s.AppendLine("| Scenario | Ours | Baseline | Ratio | Target | Result |");
        s.AppendLine("|---|---|---|---|---|---|");
        var notes = new List<string>();
        foreach (var row in run.Rows)
        {
            var scenario = row.Scenario;
            if (row.Note is not null)
            {
                // Rows that share a note share its number.
                var at = notes.IndexOf(row.Note);
                if (at < 0)
                {
                    notes.Add(row.Note);
                    at = notes.Count - 1;
                }
                scenario += $" [{at + 1}]";
            }
            s.AppendLine(inv, $"| {Cell(scenario)} | {Cell(row.Ours)} | {Cell(row.Baseline)} | {row.Ratio} | {Cell(row.Target)} | {Word(row.Verdict)} |");
        }
        s.AppendLine();
        for (var i = 0; i < notes.Count; i++) s.AppendLine(inv, $"[{i + 1}] {notes[i]}  ");
        if (notes.Count > 0) s.AppendLine();

        if (run.Baselines is not { } b)
        {
            // --only with scenarios that need neither the dataset nor the Npgsql baselines.
            s.AppendLine("No dataset loaded and no Npgsql baselines measured: the selected scenarios need neither.");
            return s.ToString();
        }
        s.AppendLine("### Baselines (raw Npgsql, same PostgreSQL, same run)");
        s.AppendLine();
        s.AppendLine("| Baseline | Throughput | p50 | p99 |");
        s.AppendLine("|---|---|---|---|");
        void Baseline(string name, LoadResult r, string unit) =>
            s.AppendLine(inv, $"| {name} | {LoadResult.Rate(r.PerSecond, unit)} | {LatencyStats.Ms(r.Latency.P50)} | {LatencyStats.Ms(r.Latency.P99)} |");
        Baseline("single-row insert + commit, 1 client", b.InsertCommit1, "tx/s");
        Baseline("single-row insert + commit, 8 clients", b.InsertCommit8, "tx/s");
        Baseline("Marten-shaped transaction, 1 client", b.MartenShaped1, "tx/s");
        Baseline("Marten-shaped transaction, 8 clients", b.MartenShaped8, "tx/s");
        Baseline("primary-key point read of a model view, 1 client", b.PointRead, "reads/s");
        s.AppendLine(inv, $"| COPY out of all {b.CopyOut.Events:N0} events (CSV) | {LoadResult.Rate(b.CopyOut.EventsPerSecond, "events/s")} ({b.CopyOut.MegabytesPerSecond:0} MB/s) | — | — |");
        s.AppendLine();

        if (run.Cpu.Count > 0)
        {
            s.AppendLine("### Where the CPU went (per request, measured part only)");
            s.AppendLine();
            s.AppendLine("| Phase | API | PostgreSQL | load generator | machine busy | of which other work |");
            s.AppendLine("|---|---|---|---|---|---|");
            foreach (var (phase, u) in run.Cpu)
                s.AppendLine(inv, $"| {Cell(phase)} | {u.ApiMicros:0} µs | {u.PostgresMicros:0} µs | {u.HarnessMicros:0} µs | {u.MachineBusyPercent:0} % | {u.OthersPercent:0} % |");
            s.AppendLine();
        }

        var d = run.Dataset!;
        var loadCpu = run.LoadCpu is { } l
            ? string.Create(inv, $"; CPU per event: harness {l.HarnessMicros:0} µs, PostgreSQL {l.PostgresMicros:0} µs, machine {l.MachineBusyPercent:0} % busy, {l.OthersPercent:0} % by other work.")
            : ".";
        var asOfSet = d.AsOf is { } asOf
            ? string.Create(inv, $", the as-of set ({asOf.Models:N0} models, {asOf.Events:N0} events up to sequence {asOf.Sequence:N0}, bulk-loaded in {asOf.BulkLoadTime.TotalSeconds:0.0} s)")
            : "";
        s.AppendLine(string.Create(inv, $"Dataset: {d.CatalogueNames.Count:N0} catalogue models, a {d.LongHistory.Events:N0}-event and a {d.ShortHistory.Events}-event model, ") +
                     string.Create(inv, $"8 + 1 register and 8 + 1 promote targets{asOfSet}; {d.Events:N0} events loaded in {d.LoadTime.TotalSeconds:0.0} s ") +
                     string.Create(inv, $"({d.EventsPerSecond:N0} events/s; the scenario targets through Marten's append path with the inline projections, ") +
                     "the rest bulk-appended with their views derived)" + loadCpu);
        return s.ToString();
    }

    public static bool AnyFailed(IEnumerable<ResultRow> rows) => rows.Any(r => r.Verdict == Verdict.Fail);

    private static string Word(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "pass",
        Verdict.Fail => "**FAIL**",
        Verdict.Info => "reported",
        _ => "not yet built",
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
