using System.Globalization;
using EventSourcedRegistry.Benchmarks.Baselines;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;
using Npgsql;

namespace EventSourcedRegistry.Benchmarks.Scenarios;

public enum Verdict
{
    Pass,
    Fail,
    /// <summary>Measured and reported, with no target of its own.</summary>
    Info,
    /// <summary>The feature it measures has not landed yet.</summary>
    NotBuilt,
}

/// <summary>One row of the results table.</summary>
public sealed record ResultRow(string Scenario, string Ours, string Baseline, string Ratio, string Target, Verdict Verdict, string? Note = null)
{
    public static string Times(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×";
}

/// <summary>Where a phase's CPU went, for the table under the results.</summary>
public sealed record CpuRow(string Scenario, CpuUsage Usage);

/// <summary>Everything a scenario may use: the running API, the database, the dataset and the baselines of this run.</summary>
public sealed class BenchContext(
    BenchOptions options,
    HttpClient http,
    NpgsqlDataSource db,
    Dataset? dataset,
    BaselineResults? baselines,
    CpuMeter cpu,
    IEnumerable<CpuRow> baselineCpu,
    Action<string> log)
{
    private readonly List<CpuRow> _cpu = [.. baselineCpu];

    public BenchOptions Options { get; } = options;
    public BenchSizes Sizes => Options.Sizes;
    public HttpClient Http { get; } = http;
    public NpgsqlDataSource Db { get; } = db;
    public Dataset Dataset => dataset ?? throw new InvalidOperationException("This run loaded no dataset: its scenarios said they need none.");
    public BaselineResults Baselines => baselines ?? throw new InvalidOperationException("This run measured no baselines: its scenarios said they need none.");
    public IReadOnlyList<CpuRow> Cpu => _cpu;

    /// <summary>The API's build output, for scenarios that launch an instance of their own.</summary>
    public string ApiAssembly { get; init; } = "";

    /// <summary>The run's PostgreSQL, for scenarios that launch an API instance of their own.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>The run's PostgreSQL server process, for the CPU meter of an API instance a scenario launches.</summary>
    public int PostgresProcessId { get; init; }

    /// <summary>The first unexpected answer of the run, to show instead of a number that means nothing.</summary>
    public string? FirstFailure { get; private set; }

    public void Log(string message) => log(message);

    /// <summary>Records an unexpected answer seen through another client than <see cref="Http"/>, unless one is recorded already.</summary>
    public void NoteFailure(string failure) => FirstFailure ??= failure;

    /// <summary>Forgets the last phase's first failure, so each row shows its own.</summary>
    public void ResetFailure() => FirstFailure = null;

    /// <summary>
    /// Runs a warm-up and a measured load, recording where the measured part's CPU went. It first waits until the
    /// async projections have processed the previous phase's events: a backlog left by one phase would otherwise be
    /// worked off in the API (the audit worker) during the next and charged to it.
    /// </summary>
    public async Task<LoadResult> MeasureAsync(string scenario, int clients, int operations, Operation operation, CancellationToken ct)
    {
        await ProjectionStatus.WaitCaughtUpAsync(Http, ct);
        await Load.RunAsync(clients, BenchSizes.WarmupFor(operations), operation, ct);
        ResetFailure();
        var before = cpu.Take();
        var result = await Load.RunAsync(clients, operations, operation, ct);
        if (CpuMeter.Between(before, cpu.Take(), operations) is { } usage) _cpu.Add(new CpuRow(scenario, usage));
        log($"{scenario}: {LoadResult.Rate(result.PerSecond, "req/s")}, {result.Latency.Describe()}" +
            (result.Failures > 0 ? $", {result.Failures} unexpected answers" : ""));
        return result;
    }

    public CpuSnapshot? CpuNow() => cpu.Take();

    public void RecordCpu(string scenario, CpuSnapshot? before, int operations)
    {
        if (CpuMeter.Between(before, cpu.Take(), operations) is { } usage) _cpu.Add(new CpuRow(scenario, usage));
    }

    /// <summary>Sends one request with a prepared JSON body and reads the whole answer; true when the status is the expected one.</summary>
    public async ValueTask<bool> SendAsync(HttpMethod method, string path, byte[]? json, int expectedStatus, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (HttpRequestException e)
        {
            // A transport failure is an unexpected answer too: counted and shown, and the run goes on.
            FirstFailure ??= $"{method} {path} failed: {e.Message} {e.InnerException?.Message}";
            return false;
        }
        using (response)
        {
            if ((int)response.StatusCode == expectedStatus) return true;
            if (FirstFailure is null)
            {
                var body = await response.Content.ReadAsStringAsync(ct);
                FirstFailure = $"{method} {path} answered {(int)response.StatusCode}, expected {expectedStatus}: {(body.Length > 300 ? body[..300] + "…" : body)}";
            }
            return false;
        }
    }
}

/// <summary>A measured scenario. Add one per feature as it lands, and list it in <see cref="Catalogue"/>.</summary>
public interface IScenario
{
    Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct);

    /// <summary>
    /// False for a scenario that brings everything it measures (the artifact upload): a run of only such scenarios
    /// skips the dataset, the Npgsql baselines, the main API instance and its warm-up.
    /// </summary>
    bool NeedsDataset => true;
}

/// <summary>A row for a target whose feature has not landed yet: it says so instead of inventing a number.</summary>
public sealed class Planned(string scenario, string target, string note, Func<BenchContext, string>? baseline = null) : IScenario
{
    public Task<IReadOnlyList<ResultRow>> RunAsync(BenchContext context, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<ResultRow>>(
            [new ResultRow(scenario, "not yet built", baseline?.Invoke(context) ?? "—", "—", target, Verdict.NotBuilt, note)]);
}

public static class Catalogue
{
    /// <summary>Every target of the benchmark issue, in table order, each under the key <c>--only</c> selects it by.
    /// Replace a <see cref="Planned"/> entry when its feature lands.</summary>
    private static IReadOnlyList<(string Key, IScenario Scenario)> Keyed() =>
    [
        ("register", new RegisterVersionScenario()),
        ("promote", new PromoteScenario()),
        ("read", new ReadModelScenario()),
        ("list", new ListModelsScenario()),
        ("mlflow", new MlflowScenario()),
        ("asof", new AsOfScenario()),
        ("console", new ConsoleScenario()),
        ("rebuild", new RebuildScenario()),
        ("audit", new AuditExportScenario()),
        ("artifacts", new ArtifactUploadScenario()),
        ("webhooks", new WebhooksScenario()),
        (TelemetryKey, new TelemetryScenario()),
        // Last: it leaves a thousand workspaces in the store.
        (WorkspacesKey, new WorkspacesScenario()),
    ];

    public static IReadOnlyList<string> Keys => [.. Keyed().Select(k => k.Key)];

    public static IReadOnlyList<IScenario> All() => [.. Keyed().Select(k => k.Scenario)];

    /// <summary>Whether any selected scenario needs the loaded dataset, the baselines and the warmed-up main API.</summary>
    public static bool NeedsDataset(BenchOptions options) => Selected(options).Any(s => s.NeedsDataset);

    /// <summary>The scenarios a run selected with <c>--only</c>, in table order; all of them without it.</summary>
    public static IReadOnlyList<IScenario> Selected(BenchOptions options) =>
        [.. Keyed().Where(k => k.Key == WorkspacesKey
                ? options.Workspaces is not null || options.Only.Contains(k.Key)
                : k.Key == TelemetryKey
                    ? options.Telemetry || options.Only.Contains(k.Key)
                    : options.Only.Count == 0 || options.Only.Contains(k.Key))
            .Select(k => k.Scenario)];

    /// <summary>Runs only when asked for by name or by <c>--workspaces</c> (see <see cref="BenchOptions.Workspaces"/>).</summary>
    public const string WorkspacesKey = "workspaces";

    /// <summary>Runs only when asked for by name or by <c>--telemetry</c>: it starts a second API instance.</summary>
    public const string TelemetryKey = "telemetry";
}
