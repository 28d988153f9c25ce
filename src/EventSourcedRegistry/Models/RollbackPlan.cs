namespace EventSourcedRegistry.Models;

/// <summary>
/// One compensating change of a rollback plan. <see cref="RequiresApproval"/>: it would move a version into a protected
/// stage or move a protected alias, which a rollback may not do (see <c>ApprovalDecisions.GateRollback</c>).
/// </summary>
public sealed record RollbackChange(string Kind, string Subject, int? Version, string? From, string? To)
{
    public bool RequiresApproval { get; init; }
}

/// <summary>
/// Rolling a model back to a point: compute its stage and alias assignments then, diff them against now, and
/// return RollbackPerformed followed by the compensating events. Versions registered after the point stay
/// registered and return to the initial stage; metadata and reported deployments are not rolled back. The
/// compensating moves restore states the model legitimately had, so they are not checked against the lifecycle
/// graph. An empty plan appends nothing, so running the same rollback twice is a no-op.
/// </summary>
public static class RollbackPlanner
{
    public const string Stage = "stage";
    public const string Alias = "alias";

    public static (IReadOnlyList<RollbackChange> Plan, Decision Decision) Plan(ModelView now, ModelView? then,
        Lifecycle.Lifecycle lifecycle, long targetSequence, DateTimeOffset? targetInstant, string reason)
    {
        if (now.Archived)
            return ([], Decision.Conflict($"Model '{now.Name}' is archived; restore it before rolling it back."));

        var changes = new List<RollbackChange>();
        var events = new List<object>();
        var note = $"Rollback to sequence {targetSequence}: {reason}";

        for (var version = 1; version <= now.LatestVersion; version++)
        {
            var current = now.StageOf(version) ?? lifecycle.InitialStage;
            var target = then?.StageOf(version) ?? lifecycle.InitialStage;
            if (current == target) continue;
            changes.Add(new RollbackChange(Stage, version.ToString(System.Globalization.CultureInfo.InvariantCulture), version, current, target));
            events.Add(new ModelVersionStageTransitioned(now.Id, version, current, target, note));
        }

        var thenAliases = then?.Aliases ?? new Dictionary<string, int>();
        foreach (var (alias, version) in thenAliases.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            now.Aliases.TryGetValue(alias, out var currentVersion);
            if (currentVersion == version) continue;
            var previous = currentVersion == 0 ? (int?)null : currentVersion;
            changes.Add(new RollbackChange(Alias, alias, version, previous?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            events.Add(new ModelAliasAssigned(now.Id, alias, version, previous));
        }
        foreach (var (alias, version) in now.Aliases.Where(a => !thenAliases.ContainsKey(a.Key)).OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            changes.Add(new RollbackChange(Alias, alias, null, version.ToString(System.Globalization.CultureInfo.InvariantCulture), null));
            events.Add(new ModelAliasRemoved(now.Id, alias, version));
        }

        if (events.Count == 0) return (changes, Decision.Unchanged);
        events.Insert(0, new RollbackPerformed(now.Id, targetSequence, targetInstant, reason, changes.Count));
        return (changes, Decision.Accept(events));
    }
}
