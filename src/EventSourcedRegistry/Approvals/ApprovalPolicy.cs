using EventSourcedRegistry.Validation;

namespace EventSourcedRegistry.Approvals;

/// <summary>
/// Bound from configuration section <c>Registry:Approvals</c>. Anything left out takes the default: stage
/// Production and alias champion protected, one approval, approvals valid for seven days. An empty list
/// (an empty value for the key) protects nothing.
/// </summary>
public sealed class ApprovalOptions
{
    public const string Section = "Registry:Approvals";

    public string[]? ProtectedStages { get; set; }
    public string[]? ProtectedAliases { get; set; }
    public int? RequiredApprovals { get; set; }
    public TimeSpan? ApprovalLifetime { get; set; }
}

/// <summary>Which transitions need four-eyes approval, by how many approvers, and how long an approval counts.</summary>
public sealed class ApprovalPolicy
{
    public const int MaxRequiredApprovals = 10;

    private ApprovalPolicy(IReadOnlyList<string> stages, IReadOnlyList<string> aliases, int required, TimeSpan lifetime)
    {
        ProtectedStages = stages;
        ProtectedAliases = aliases;
        RequiredApprovals = required;
        ApprovalLifetime = lifetime;
    }

    public IReadOnlyList<string> ProtectedStages { get; }
    public IReadOnlyList<string> ProtectedAliases { get; }
    public int RequiredApprovals { get; }
    public TimeSpan ApprovalLifetime { get; }

    public static ApprovalPolicy Default { get; } = From(new ApprovalOptions(), Lifecycle.Lifecycle.Default);

    /// <summary>Protects nothing: every transition acts at once.</summary>
    public static ApprovalPolicy None { get; } = From(new ApprovalOptions { ProtectedStages = [], ProtectedAliases = [] }, Lifecycle.Lifecycle.Default);

    /// <summary>Validates the options against the lifecycle; a misconfiguration stops the app at startup.</summary>
    public static ApprovalPolicy From(ApprovalOptions options, Lifecycle.Lifecycle lifecycle)
    {
        var section = ApprovalOptions.Section;
        var stages = new List<string>();
        foreach (var stage in options.ProtectedStages ?? [Lifecycle.Lifecycle.Production])
        {
            if (string.IsNullOrWhiteSpace(stage)) continue;
            var canonical = lifecycle.Resolve(stage.Trim())
                ?? (options.ProtectedStages is null
                    ? null // the default names Production; a custom lifecycle without it simply protects no stage
                    : throw new InvalidOperationException(
                        $"{section}:ProtectedStages names '{stage}', which is not one of the stages ({string.Join(", ", lifecycle.Stages)})."));
            if (canonical is not null && !stages.Contains(canonical)) stages.Add(canonical);
        }

        var aliases = new List<string>();
        foreach (var alias in options.ProtectedAliases ?? ["champion"])
        {
            if (string.IsNullOrWhiteSpace(alias)) continue;
            var trimmed = alias.Trim();
            if (InputRules.CheckAlias(trimmed) is { } error)
                throw new InvalidOperationException($"{section}:ProtectedAliases: '{alias}' is not an alias name. {error}");
            if (InputRules.IsReservedAlias(trimmed))
                throw new InvalidOperationException($"{section}:ProtectedAliases: '{alias}' is reserved ('latest' and 'v<number>' cannot be assigned).");
            var normalized = InputRules.NormalizeAlias(trimmed);
            if (!aliases.Contains(normalized)) aliases.Add(normalized);
        }

        var required = options.RequiredApprovals ?? 1;
        if (required is < 1 or > MaxRequiredApprovals)
            throw new InvalidOperationException($"{section}:RequiredApprovals must be from 1 to {MaxRequiredApprovals}; it is {required}.");

        var lifetime = options.ApprovalLifetime ?? TimeSpan.FromDays(7);
        if (lifetime <= TimeSpan.Zero)
            throw new InvalidOperationException($"{section}:ApprovalLifetime must be positive (for example 7.00:00:00 for seven days); it is {lifetime}.");

        return new ApprovalPolicy(stages, aliases, required, lifetime);
    }

    public bool ProtectsStage(string stage) => ProtectedStages.Contains(stage, StringComparer.OrdinalIgnoreCase);

    public bool ProtectsAlias(string alias) => ProtectedAliases.Contains(InputRules.NormalizeAlias(alias));
}
