using System.Globalization;

namespace EventSourcedRegistry.Benchmarks;

public enum BenchMode
{
    Quick,
    Full,
}

/// <summary>How many of each thing a mode uses. Request counts are fixed, never durations, so two runs do the same work.</summary>
/// <param name="WebhookOutage">The one duration: how long the webhook receiver is down (the target names ten minutes);
/// promotions go on at their fixed rate meanwhile, so it fixes a count too.</param>
public sealed record BenchSizes(
    int ListModels,
    int HistoryEvents,
    int BaselineWrites1,
    int BaselineWrites8,
    int PointReads,
    int Commands1,
    int Commands8,
    int ContendedCommands,
    int ModelReads,
    int ListQueriesPerKind,
    int AsOfModels,
    int AsOfEvents,
    int WebhookPromotions,
    TimeSpan WebhookOutage)
{
    /// <summary>Under 3 minutes on a shared 2-core machine, build excluded.</summary>
    public static BenchSizes Quick { get; } = new(
        ListModels: 10_000, HistoryEvents: 10_000, BaselineWrites1: 400, BaselineWrites8: 1_600, PointReads: 3_000,
        Commands1: 300, Commands8: 1_200, ContendedCommands: 480, ModelReads: 1_500, ListQueriesPerKind: 300,
        AsOfModels: 0, AsOfEvents: 0, WebhookPromotions: 1_500, WebhookOutage: TimeSpan.FromSeconds(30));

    public static BenchSizes Full { get; } = new(
        ListModels: 100_000, HistoryEvents: 10_000, BaselineWrites1: 2_000, BaselineWrites8: 8_000, PointReads: 20_000,
        Commands1: 2_000, Commands8: 8_000, ContendedCommands: 2_400, ModelReads: 10_000, ListQueriesPerKind: 2_000,
        AsOfModels: 10_000, AsOfEvents: 1_000_000, WebhookPromotions: 6_000, WebhookOutage: TimeSpan.FromMinutes(10));

    /// <summary>Requests run and thrown away before a measurement: connection pools, JIT, Wolverine's runtime code generation.</summary>
    public static int WarmupFor(int measured) => Math.Clamp(measured / 10, 50, 200);
}

public sealed record BenchOptions
{
    public BenchMode Mode { get; init; } = BenchMode.Full;
    public int Seed { get; init; } = 20_240_801;
    public string? OutputPath { get; init; }
    public string? ApiAssembly { get; init; }
    public bool Help { get; init; }

    /// <summary>The scenarios to run (keys of <see cref="Scenarios.Catalogue"/>); empty: all of them.</summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>();

    /// <summary>Overrides the mode's number of catalogue models (<c>--models</c>).</summary>
    public int? Models { get; init; }

    /// <summary>
    /// Workspaces the workspaces scenario creates, 100 models each (<c>--workspaces</c>). The scenario runs only when asked
    /// for (this option, or <c>--only workspaces</c>): it takes longer than every other scenario together.
    /// </summary>
    public int? Workspaces { get; init; }

    public const int DefaultWorkspaces = 1_000;

    /// <summary>
    /// Runs the telemetry scenario too (<c>--telemetry</c>): register and promote with traces and metrics exported over OTLP
    /// to a local stand-in, against the same with telemetry off, in the same run.
    /// </summary>
    public bool Telemetry { get; init; }

    public BenchSizes Sizes
    {
        get
        {
            var sizes = Mode == BenchMode.Quick ? BenchSizes.Quick : BenchSizes.Full;
            return Models is { } models ? sizes with { ListModels = models } : sizes;
        }
    }
    public string ModeName => Mode == BenchMode.Quick ? "quick" : "full";

    public const string Usage = """
        EventSourcedRegistry benchmark harness

          dotnet run -c Release --project tests/EventSourcedRegistry.Benchmarks -- [--quick] [options]

          --quick           fewer requests and 10,000 instead of 100,000 models (under 3 minutes)
          --full            the default: every scenario at full size
          --seed <n>        dataset seed (default 20240801)
          --out <file>      results file (default tests/EventSourcedRegistry.Benchmarks/results/latest-<mode>.md)
          --api <dll>       the API assembly to launch (default: the API's build output of this configuration)
          --only <keys>     run only these scenarios, comma-separated: register, promote, read, list, mlflow, asof,
                            rebuild, audit, artifacts, webhooks, telemetry, workspaces (PostgreSQL, the dataset and the
                            baselines still run)
          --models <n>      catalogue models to load instead of the mode's 10,000 (quick) or 100,000 (full)
          --workspaces <n>  run the workspaces scenario too, with n workspaces of 100 models each
                            (--only workspaces alone: 1000); it is not part of a run without one of these
          --telemetry       run the telemetry scenario too: register and promote at 8 clients with OpenTelemetry
                            traces and metrics exported over OTLP to a local stand-in, and their ratio to the same
                            with telemetry off (also: --only telemetry)

        Exit code: 0 every target passed, 3 a target failed, 1 the run itself failed.
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            options = args[i] switch
            {
                "--quick" => options with { Mode = BenchMode.Quick },
                "--full" => options with { Mode = BenchMode.Full },
                "--seed" => options with { Seed = int.Parse(Value(args, ref i), NumberStyles.Integer, CultureInfo.InvariantCulture) },
                "--out" => options with { OutputPath = Path.GetFullPath(Value(args, ref i)) },
                "--api" => options with { ApiAssembly = Path.GetFullPath(Value(args, ref i)) },
                "--only" => options with { Only = OnlyKeys(Value(args, ref i)) },
                "--models" => options with { Models = int.Parse(Value(args, ref i), NumberStyles.Integer, CultureInfo.InvariantCulture) },
                "--workspaces" => options with { Workspaces = Positive(Value(args, ref i), "--workspaces") },
                "--telemetry" => options with { Telemetry = true },
                "-h" or "--help" => options with { Help = true },
                var unknown => throw new ArgumentException($"Unknown option '{unknown}'."),
            };
        }
        return options;
    }

    private static HashSet<string> OnlyKeys(string list)
    {
        var keys = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var unknown = keys.Except(Scenarios.Catalogue.Keys, StringComparer.OrdinalIgnoreCase).ToList();
        if (keys.Count == 0 || unknown.Count > 0)
            throw new ArgumentException($"--only takes scenario keys among {string.Join(", ", Scenarios.Catalogue.Keys)}; not '{string.Join(", ", unknown)}'.");
        return keys;
    }

    private static int Positive(string text, string option) =>
        int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture) is > 0 and var n ? n : throw new ArgumentException($"{option} takes a whole number from 1.");

    private static string Value(IReadOnlyList<string> args, ref int i) =>
        ++i < args.Count ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");
}
