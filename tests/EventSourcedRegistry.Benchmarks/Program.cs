using System.Diagnostics;
using System.Globalization;
using EventSourcedRegistry.Benchmarks.Baselines;
using EventSourcedRegistry.Benchmarks.Data;
using EventSourcedRegistry.Benchmarks.Infrastructure;
using EventSourcedRegistry.Benchmarks.Reporting;
using EventSourcedRegistry.Benchmarks.Scenarios;
using Npgsql;

namespace EventSourcedRegistry.Benchmarks;

// Not top-level statements: the API project this harness references already has a global Program class.
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync(e.Message + Environment.NewLine + BenchOptions.Usage);
            return 1;
        }
        if (options.Help)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // stop gracefully so PostgreSQL and the API are shut down and the data directory removed
            cancel.Cancel();
        };

        try
        {
            var run = await RunAsync(options, cancel.Token);
            var markdown = MarkdownReport.Render(run);
            var output = options.OutputPath ?? RepoPaths.DefaultResultsFile(options.ModeName);
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            await File.WriteAllTextAsync(output, markdown, CancellationToken.None);
            Console.WriteLine();
            Console.WriteLine(markdown);
            Console.WriteLine($"Written to {output}");
            return MarkdownReport.AnyFailed(run.Rows) ? 3 : 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Cancelled.");
            return 1;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"The benchmark run failed: {e}");
            return 1;
        }
    }

    private static async Task<RunFacts> RunAsync(BenchOptions options, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        void Log(string message) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),6} s] {message}");

#if DEBUG
        Log("warning: this is a Debug build; numbers are only meaningful with -c Release");
#endif
        var apiAssembly = ApiProcess.Locate(options.ApiAssembly);
        Log($"{options.ModeName} mode; API under test: {apiAssembly}");

        await using var postgres = await BenchPostgres.StartAsync(ct);
        var server = await postgres.ReadFactsAsync(ct);
        Log($"started {server.Describe()}");

        if (!Catalogue.NeedsDataset(options))
        {
            Log("the selected scenarios need no dataset: skipping it, the Npgsql baselines and the main API instance");
            var bare = new BenchContext(options, null!, null!, null, null, new CpuMeter(null, postgres.ServerProcessId), [], Log)
            {
                ApiAssembly = apiAssembly,
                ConnectionString = postgres.ConnectionString,
            };
            var only = new List<ResultRow>();
            foreach (var scenario in Catalogue.Selected(options))
                only.AddRange(await scenario.RunAsync(bare, ct));
            return new RunFacts(options, started, clock.Elapsed, server, apiAssembly, null, null, null, only, bare.Cpu);
        }

        var loadMeter = new CpuMeter(null, postgres.ServerProcessId);
        var beforeLoad = loadMeter.Take();
        var dataset = await DatasetLoader.LoadAsync(postgres.ConnectionString, options, Log, ct);
        var loadCpu = CpuMeter.Between(beforeLoad, loadMeter.Take(), (int)dataset.Events);
        if (loadCpu is not null)
            Log($"load CPU per event: harness {loadCpu.HarnessMicros:0} µs, PostgreSQL {loadCpu.PostgresMicros:0} µs; machine {loadCpu.MachineBusyPercent:0} % busy, {loadCpu.OthersPercent:0} % other work");
        await postgres.SettleAsync(ct);
        Log("vacuum analyze and checkpoint done");

        await using var api = await ApiProcess.StartAsync(apiAssembly, postgres.ConnectionString, ct);
        Log($"API ready on {api.BaseAddress}");

        var harnessDb = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { MaxPoolSize = 16, ApplicationName = "esr-bench" };
        await using var db = NpgsqlDataSource.Create(harnessDb.ConnectionString);
        var cpu = new CpuMeter(api.ProcessId, postgres.ServerProcessId);
        using var http = ApiProcess.Authorize(new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 64,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            UseCookies = false,
        })
        {
            BaseAddress = api.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        });

        // The floors are measured on a machine as quiet as the API's phases get: not beside the API's audit worker
        // catching up on the loaded events. Until 7 Dec they were, and the Marten-shaped floor came out at half its
        // quiet rate (806 against 1,754 tx/s at 1 client, on one machine an hour apart), which flattered every
        // command's ratio about twofold.
        var loadCaughtUp = await ProjectionStatus.WaitCaughtUpAsync(http, ct);
        Log($"async projections caught up on the loaded events after {loadCaughtUp.TotalSeconds:0.0} s");
        var baselineCpu = new List<CpuRow>();
        var baselines = await NpgsqlBaselines.RunAsync(db, dataset, options.Sizes, RegisterVersionScenario.Body(options.Seed), cpu, baselineCpu, Log, ct);
        var context = new BenchContext(options, http, db, dataset, baselines, cpu, baselineCpu, Log)
        {
            ApiAssembly = apiAssembly,
            ConnectionString = postgres.ConnectionString,
            PostgresProcessId = postgres.ServerProcessId,
        };

        var rows = new List<ResultRow>();
        try
        {
            await ServerWarmup.RunAsync(context, ct);
            // The async projections (audit log, hash chain) catch up on the warm-up's events; their CPU would otherwise
            // be charged to the first scenarios' requests.
            var caughtUp = await ProjectionStatus.WaitCaughtUpAsync(context, ct);
            Log($"async projections caught up on the warm-up after {caughtUp.TotalSeconds:0.0} s");
            foreach (var scenario in Catalogue.Selected(options))
                rows.AddRange(await scenario.RunAsync(context, ct));
        }
        catch (HttpRequestException)
        {
            Log($"the API {(api.HasExited ? "has exited" : "is running")}; its last output:{Environment.NewLine}{api.Tail()}");
            throw;
        }

        return new RunFacts(options, started, clock.Elapsed, server, apiAssembly, dataset, loadCpu, baselines, rows, context.Cpu);
    }
}
