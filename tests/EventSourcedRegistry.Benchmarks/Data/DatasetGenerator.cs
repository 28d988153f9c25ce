using System.Globalization;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using DomainLifecycle = EventSourcedRegistry.Lifecycle.Lifecycle;

namespace EventSourcedRegistry.Benchmarks.Data;

/// <summary>One model's stream as the loader appends it.</summary>
public sealed record SeedStream(Guid Id, string Name, IReadOnlyList<object> Events);

/// <summary>
/// Deterministic streams from a seed. Every event comes out of the domain's own decide functions, folded into the
/// model view step by step, so each stream is one the API itself could have written.
/// </summary>
public sealed class DatasetGenerator(int seed)
{
    public static readonly string[] Teams =
    [
        "fraud", "growth", "search", "ads", "risk", "vision", "speech", "pricing", "supply", "support",
        "payments", "maps", "health", "trust", "infra", "media", "retail", "credit", "energy", "travel",
    ];

    public static readonly string[] Kinds = ["churn", "ranker", "detector", "forecast", "embedder", "classifier", "scorer", "tagger", "recommender", "segmenter"];

    public const int Owners = 50;
    public const int CostCenters = 1_000;

    private static readonly DomainLifecycle Lifecycle = DomainLifecycle.Default;

    /// <summary>A model whose stream holds exactly <paramref name="events"/> events: cycles of register, stage, promote with archiveExisting, alias move and tag edit.</summary>
    public SeedStream History(string name, int events)
    {
        var rng = new Random(seed ^ StableHash(name) ^ events);
        var stream = new StreamBuilder(NewId(rng), events);
        stream.Take(ModelDecisions.Register(stream.Id, name, "A model with a long history.", new Dictionary<string, string> { ["team"] = "bench" }));
        var cycle = 0;
        while (!stream.Full)
        {
            cycle++;
            if (!stream.Take(RegisterVersion(stream.Model!, rng))) break;
            var version = stream.Model!.LatestVersion;
            if (!stream.Take(ModelDecisions.TransitionStage(stream.Model, Lifecycle, version, "Staging", "candidate", archiveExisting: false))) break;
            if (!stream.Take(ModelDecisions.TransitionStage(stream.Model, Lifecycle, version, "Production", "beats the champion", archiveExisting: true))) break;
            if (!stream.Take(ModelDecisions.AssignAlias(stream.Model, "champion", version))) break;
            if (!stream.Take(TagEdit(stream.Model, cycle))) break;
        }
        // A decision that would not fit whole is left out; single tag edits fill the stream to the exact count.
        while (!stream.Full) stream.Take(TagEdit(stream.Model!, ++cycle));
        return stream.Build(name);
    }

    /// <summary>A freshly registered model with <paramref name="versions"/> versions, all in the initial stage.</summary>
    public SeedStream Fresh(string name, int versions)
    {
        var rng = new Random(seed ^ StableHash(name) ^ versions);
        var stream = new StreamBuilder(NewId(rng), int.MaxValue);
        stream.Take(ModelDecisions.Register(stream.Id, name, "Benchmark target.", new Dictionary<string, string> { ["team"] = "bench" }));
        for (var v = 0; v < versions; v++) stream.Take(RegisterVersion(stream.Model!, rng));
        return stream.Build(name);
    }

    /// <summary>
    /// The catalogue a list/search runs over: <c>{team}-{kind}-{n:D6}</c> names, tags team/owner/cost-center, 0–3 versions,
    /// some in Production or Staging, 2 % archived. About 3.3 events per model.
    /// </summary>
    public IEnumerable<SeedStream> Catalogue(int models)
    {
        var rng = new Random(seed);
        for (var i = 0; i < models; i++)
        {
            var team = Teams[rng.Next(Teams.Length)];
            var kind = Kinds[rng.Next(Kinds.Length)];
            var name = CatalogueName(team, kind, i);
            var stream = new StreamBuilder(NewId(rng), int.MaxValue);
            stream.Take(ModelDecisions.Register(stream.Id, name, $"The {team} team's {kind}.", new Dictionary<string, string>
            {
                ["team"] = team,
                ["owner"] = "owner-" + rng.Next(Owners).ToString("D2", CultureInfo.InvariantCulture),
                ["cost-center"] = CostCenter(rng.Next(CostCenters)),
            }));
            var versions = rng.Next(0, 4);
            for (var v = 0; v < versions; v++) stream.Take(RegisterVersion(stream.Model!, rng));
            if (versions >= 1 && rng.NextDouble() < 0.6)
                stream.Take(ModelDecisions.TransitionStage(stream.Model!, Lifecycle, versions, "Production", "launch", archiveExisting: true));
            if (versions >= 2 && rng.NextDouble() < 0.3)
                stream.Take(ModelDecisions.TransitionStage(stream.Model!, Lifecycle, versions - 1, "Staging", "shadow", archiveExisting: false));
            if (rng.NextDouble() < 0.02) stream.Take(ModelDecisions.Archive(stream.Model!));
            yield return stream.Build(name);
        }
    }

    public static string CatalogueName(string team, string kind, int i) => $"{team}-{kind}-{i.ToString("D6", CultureInfo.InvariantCulture)}";

    /// <summary>FNV-1a: string.GetHashCode and HashCode are randomised per process, which would make runs differ.</summary>
    public static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return unchecked((int)hash);
    }

    public static string CostCenter(int n) => "cc-" + n.ToString("D4", CultureInfo.InvariantCulture);

    private static Decision TagEdit(ModelView model, int cycle) =>
        ModelDecisions.EditMetadata(model, null, new Dictionary<string, string> { ["last-cycle"] = cycle.ToString(CultureInfo.InvariantCulture) }, null);

    private static Decision RegisterVersion(ModelView model, Random rng)
    {
        var version = model.LatestVersion + 1;
        return ModelDecisions.RegisterVersion(model, Lifecycle,
            new ArtifactReference($"s3://bench-models/{model.NormalizedName}/{version}/model.onnx", Hex(rng, 32), rng.Next(1_000_000, 500_000_000)),
            new Lineage($"run-{Hex(rng, 6)}", "https://git.example.com/ml/models", Hex(rng, 20),
                [new DatasetReference($"s3://bench-data/{model.NormalizedName}/train.parquet", "sha256:" + Hex(rng, 32))]),
            new Dictionary<string, string> { ["learning_rate"] = "0.05", ["max_depth"] = "8", ["epochs"] = "20" },
            new Dictionary<string, double> { ["auc"] = Math.Round(0.7 + rng.NextDouble() * 0.25, 4), ["logloss"] = Math.Round(rng.NextDouble(), 4) },
            new Dictionary<string, string> { ["framework"] = "xgboost" },
            $"Version {version.ToString(CultureInfo.InvariantCulture)}", null);
    }

    private static Guid NewId(Random rng)
    {
        Span<byte> bytes = stackalloc byte[16];
        rng.NextBytes(bytes);
        return new Guid(bytes);
    }

    public static string Hex(Random rng, int bytes)
    {
        var buffer = new byte[bytes];
        rng.NextBytes(buffer);
        return Convert.ToHexStringLower(buffer);
    }

    /// <summary>Collects accepted decisions whole, folding each into the view the next decision is made against.</summary>
    private sealed class StreamBuilder(Guid id, int capacity)
    {
        private readonly List<object> _events = [];
        public Guid Id { get; } = id;
        public ModelView? Model { get; private set; }
        public bool Full => _events.Count >= capacity;

        /// <summary>False when the decision was refused or would not fit whole.</summary>
        public bool Take(Decision decision)
        {
            if (decision.IsRejected)
                throw new InvalidOperationException($"The generator made a command the domain refuses: {decision.Rejection!.Detail}");
            if (_events.Count + decision.Events.Count > capacity) return false;
            foreach (var e in decision.Events)
            {
                _events.Add(e);
                Model = ModelView.Fold(Model, e);
            }
            if (Model is not null) Model.Revision = _events.Count;
            return true;
        }

        public SeedStream Build(string name)
        {
            if (InputRules.CheckModelName(name) is { } problem) throw new InvalidOperationException(problem);
            return new SeedStream(Id, name, _events);
        }
    }
}
