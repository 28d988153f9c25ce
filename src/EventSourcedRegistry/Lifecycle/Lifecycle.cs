namespace EventSourcedRegistry.Lifecycle;

/// <summary>Bound from configuration section <c>Registry:Lifecycle</c>; anything left out takes the default graph.</summary>
public sealed class LifecycleOptions
{
    public const string Section = "Registry:Lifecycle";

    public string[]? Stages { get; set; }
    public string? InitialStage { get; set; }
    public string? ArchiveStage { get; set; }

    /// <summary>Stage → the stages a version in it may move to.</summary>
    public Dictionary<string, string[]>? Transitions { get; set; }

    /// <summary>Stage → what a version must carry to enter it (see <see cref="StageGates"/>). None by default.</summary>
    public Dictionary<string, StageGateOptions>? Gates { get; set; }
}

/// <summary>
/// The stage graph versions move along. Stage names are matched case-insensitively and always reported
/// in the spelling the configuration gives.
/// </summary>
public sealed class Lifecycle
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    private readonly Dictionary<string, HashSet<string>> _transitions;
    private readonly Dictionary<string, StageGate> _gates;

    private Lifecycle(IReadOnlyList<string> stages, string initial, string archive,
        Dictionary<string, HashSet<string>> transitions, Dictionary<string, StageGate> gates)
    {
        _gates = gates;
        Stages = stages;
        InitialStage = initial;
        ArchiveStage = archive;
        _transitions = transitions;
    }

    public IReadOnlyList<string> Stages { get; }
    public string InitialStage { get; }

    /// <summary>Where <c>archiveExisting</c> sends the versions a promotion displaces.</summary>
    public string ArchiveStage { get; }

    /// <summary>None, Staging and Production move freely among each other; any stage may go to Archived; Archived goes back to None.</summary>
    public static Lifecycle Default { get; } = From(new LifecycleOptions());

    public static Lifecycle From(LifecycleOptions options)
    {
        var stages = options.Stages is { Length: > 0 } ? options.Stages : [None, Staging, Production, Archived];
        if (stages.Distinct(StringComparer.OrdinalIgnoreCase).Count() != stages.Length)
            throw new InvalidOperationException($"{LifecycleOptions.Section}:Stages lists a stage twice.");

        string Canonical(string name, string setting) =>
            stages.FirstOrDefault(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException(
                $"{LifecycleOptions.Section}:{setting} names '{name}', which is not one of the stages ({string.Join(", ", stages)}).");

        var initial = Canonical(options.InitialStage ?? stages[0], "InitialStage");
        var archive = Canonical(options.ArchiveStage ?? (options.Stages is { Length: > 0 } ? stages[^1] : Archived), "ArchiveStage");

        var transitions = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var stage in stages) transitions[stage] = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        if (options.Transitions is { Count: > 0 })
        {
            foreach (var (from, targets) in options.Transitions)
            {
                var source = Canonical(from, $"Transitions:{from}");
                foreach (var to in targets) transitions[source].Add(Canonical(to, $"Transitions:{from}"));
            }
        }
        else
        {
            foreach (var from in stages)
            foreach (var to in stages)
            {
                if (from.Equals(to, StringComparison.OrdinalIgnoreCase)) continue;
                var fromArchive = from.Equals(archive, StringComparison.OrdinalIgnoreCase);
                var toArchive = to.Equals(archive, StringComparison.OrdinalIgnoreCase);
                if (toArchive || !fromArchive || to.Equals(initial, StringComparison.OrdinalIgnoreCase))
                    transitions[from].Add(to);
            }
        }

        var gates = StageGates.From(options.Gates, stages, initial, LifecycleOptions.Section);
        return new Lifecycle(stages, initial, archive, transitions, gates);
    }

    /// <summary>The configured spelling of a stage name, or null when there is no such stage.</summary>
    public string? Resolve(string? stage) =>
        stage is null ? null : Stages.FirstOrDefault(s => string.Equals(s, stage, StringComparison.OrdinalIgnoreCase));

    public bool Allows(string from, string to) => _transitions.TryGetValue(from, out var targets) && targets.Contains(to);

    /// <summary>The gates a version must pass to enter the stage; null when the stage has none.</summary>
    public StageGate? GatesFor(string stage) => _gates.GetValueOrDefault(stage);

    public IReadOnlyList<string> AllowedFrom(string from) =>
        _transitions.TryGetValue(from, out var targets) ? Stages.Where(targets.Contains).ToList() : [];
}
