using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Lifecycle;
using System.Text.Json.Serialization;

namespace EventSourcedRegistry.Settings;

// A workspace's own policy, as events in its settings stream. These records are the stored contract: they are not the
// configuration's Options classes (whose shape may change with the configuration binder), and they are validated by the
// same code that validates configuration at startup (Lifecycle.From, ApprovalPolicy.From) before they are appended.

/// <summary>
/// The workspace's policy replaced as a whole. A part left null takes the configuration's default (<c>Registry:Lifecycle</c>,
/// <c>Registry:Approvals</c>, <c>Registry:RateLimits</c>, <c>Registry:Artifacts:QuotaBytes</c>), so a workspace that sets
/// only its approvals keeps the deployment's lifecycle. <see cref="RateLimits"/> and <see cref="ArtifactQuotaBytes"/> came
/// later: events stored before them read with both null, exactly as they decided then.
/// </summary>
public sealed record WorkspacePolicySet(LifecyclePolicy? Lifecycle, ApprovalsPolicy? Approvals,
    RateLimitsPolicy? RateLimits = null, long? ArtifactQuotaBytes = null);

/// <summary>The workspace's policy removed: every part is the configuration's default again.</summary>
public sealed record WorkspacePolicyRemoved;

/// <summary>A stage graph, shaped like <c>Registry:Lifecycle</c>: anything left null takes the graph's own default.</summary>
public sealed record LifecyclePolicy(
    IReadOnlyList<string>? Stages,
    string? InitialStage,
    string? ArchiveStage,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Transitions,
    IReadOnlyDictionary<string, StageGatePolicy>? Gates)
{
    public LifecycleOptions ToOptions() => new()
    {
        Stages = Stages?.ToArray(),
        InitialStage = InitialStage,
        ArchiveStage = ArchiveStage,
        Transitions = Transitions?.ToDictionary(t => t.Key, t => (t.Value ?? []).ToArray()),
        Gates = Gates?.ToDictionary(g => g.Key, g => g.Value?.ToOptions() ?? new StageGateOptions()),
    };
}

/// <summary>What a version must carry to enter a stage, shaped like <c>Registry:Lifecycle:Gates:&lt;stage&gt;</c>.</summary>
public sealed record StageGatePolicy(IReadOnlyList<string>? Lineage, IReadOnlyList<string>? Metrics, IReadOnlyList<string>? Metadata,
    IReadOnlyList<string>? Tags)
{
    public StageGateOptions ToOptions() => new()
    {
        Lineage = Lineage?.ToArray(),
        Metrics = Metrics?.ToArray(),
        Metadata = Metadata?.ToArray(),
        Tags = Tags?.ToArray(),
    };
}

/// <summary>Four-eyes approval, shaped like <c>Registry:Approvals</c>: null takes the default, an empty list protects nothing.</summary>
public sealed record ApprovalsPolicy(IReadOnlyList<string>? ProtectedStages, IReadOnlyList<string>? ProtectedAliases,
    int? RequiredApprovals, TimeSpan? ApprovalLifetime)
{
    public ApprovalOptions ToOptions() => new()
    {
        ProtectedStages = ProtectedStages?.ToArray(),
        ProtectedAliases = ProtectedAliases?.ToArray(),
        RequiredApprovals = RequiredApprovals,
        ApprovalLifetime = ApprovalLifetime,
    };
}

/// <summary>
/// Requests per period (the configuration's <c>Registry:RateLimits:Period</c>) of one caller in the workspace, shaped like
/// <c>Registry:RateLimits</c>: a count left null takes the configuration's. Strict numbers: "10" is not a count.
/// </summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed record RateLimitsPolicy(int? Reads, int? ReadBurst, int? Commands, int? CommandBurst, int? Uploads, int? UploadBurst);

/// <summary>Where a part of the effective policy comes from.</summary>
public static class PolicySources
{
    public const string Workspace = "workspace";
    public const string Configuration = "configuration";
}

/// <summary>
/// The policy a workspace's commands decide with: its own parts where it set them, the configuration's otherwise.
/// Built by <see cref="Resolve"/>, which is also the validator: whatever it refuses is never appended.
/// </summary>
public sealed record EffectivePolicy(Lifecycle.Lifecycle Lifecycle, ApprovalPolicy Approvals, string LifecycleSource, string ApprovalsSource,
    long Revision)
{
    /// <summary>Hostile-input caps: far above any real lifecycle, low enough that one request cannot make a huge event.</summary>
    public const int MaxStages = 32;
    public const int MaxNameLength = 64;
    public const int MaxListEntries = 64;
    public const int MaxEntryLength = 256;

    /// <summary>
    /// The configuration's defaults overridden by <paramref name="policy"/>, validated exactly as startup validates
    /// configuration (same code, same messages). Returns the problems, one per field, instead of throwing.
    /// </summary>
    public static (EffectivePolicy? Policy, IReadOnlyList<(string Field, string Message)> Problems) Resolve(
        WorkspacePolicySet? policy, LifecycleOptions configuredLifecycle, ApprovalOptions configuredApprovals, long revision)
    {
        var problems = new List<(string, string)>();
        if (policy is not null) CheckSizes(policy, problems);
        if (problems.Count > 0) return (null, problems);

        EventSourcedRegistry.Lifecycle.Lifecycle lifecycle;
        try
        {
            lifecycle = EventSourcedRegistry.Lifecycle.Lifecycle.From(policy?.Lifecycle?.ToOptions() ?? configuredLifecycle);
        }
        catch (InvalidOperationException ex)
        {
            return (null, Split("lifecycle", ex.Message));
        }

        ApprovalPolicy approvals;
        try
        {
            approvals = ApprovalPolicy.From(policy?.Approvals?.ToOptions() ?? configuredApprovals, lifecycle);
        }
        catch (InvalidOperationException ex)
        {
            return (null, Split("approvals", ex.Message));
        }

        return (new EffectivePolicy(lifecycle, approvals,
            policy?.Lifecycle is null ? PolicySources.Configuration : PolicySources.Workspace,
            policy?.Approvals is null ? PolicySources.Configuration : PolicySources.Workspace, revision), []);
    }

    // The startup validators report several problems in one message, a line each (StageGates): one field error per line.
    private static List<(string, string)> Split(string field, string message) =>
        message.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Select(m => (field, m)).ToList();

    private static void CheckSizes(WorkspacePolicySet policy, List<(string, string)> problems)
    {
        void Names(string field, IEnumerable<string?>? names, int max)
        {
            if (names is null) return;
            var list = names.ToList();
            if (list.Count > max) problems.Add((field, $"lists {list.Count} entries; at most {max} are allowed."));
            else if (list.Any(n => n is null)) problems.Add((field, "has a null entry."));
            else if (list.FirstOrDefault(n => n!.Length > MaxEntryLength) is { } tooLong)
                problems.Add((field, $"has an entry of {tooLong.Length} characters; at most {MaxEntryLength} are allowed."));
        }

        if (policy.Lifecycle is { } lifecycle)
        {
            Names("lifecycle.stages", lifecycle.Stages, MaxStages);
            if (lifecycle.Stages?.FirstOrDefault(s => s is { Length: > MaxNameLength }) is { } longStage)
                problems.Add(("lifecycle.stages", $"has a stage name of {longStage.Length} characters; at most {MaxNameLength} are allowed."));
            if (lifecycle.Transitions is { } transitions)
            {
                if (transitions.Count > MaxStages) problems.Add(("lifecycle.transitions", $"lists {transitions.Count} stages; at most {MaxStages} are allowed."));
                else foreach (var (from, to) in transitions) Names($"lifecycle.transitions.{Short(from)}", to, MaxStages);
            }
            if (lifecycle.Gates is { } gates)
            {
                if (gates.Count > MaxStages) problems.Add(("lifecycle.gates", $"lists {gates.Count} stages; at most {MaxStages} are allowed."));
                else
                    foreach (var (stage, gate) in gates)
                    {
                        Names($"lifecycle.gates.{Short(stage)}.lineage", gate?.Lineage, MaxListEntries);
                        Names($"lifecycle.gates.{Short(stage)}.metrics", gate?.Metrics, MaxListEntries);
                        Names($"lifecycle.gates.{Short(stage)}.metadata", gate?.Metadata, MaxListEntries);
                        Names($"lifecycle.gates.{Short(stage)}.tags", gate?.Tags, MaxListEntries);
                    }
            }
        }

        if (policy.Approvals is { } approvals)
        {
            Names("approvals.protectedStages", approvals.ProtectedStages, MaxStages);
            Names("approvals.protectedAliases", approvals.ProtectedAliases, MaxListEntries);
        }
    }

    // A field path must not echo a huge key back.
    private static string Short(string key) => key.Length <= MaxNameLength ? key : key[..MaxNameLength] + "…";
}
