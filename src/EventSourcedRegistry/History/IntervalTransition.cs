using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.History;

/// <summary>
/// What one event does to its model's <see cref="DeploymentHistory"/> intervals, written once: <see cref="IntervalFold"/>
/// applies it in memory (rebuilds, the benchmark's loader), <see cref="DeploymentHistoryProjection"/> as SQL. The closes
/// happen before the open, and both carry the event's own <see cref="Reason"/> (or, where it has none, the request's).
/// </summary>
/// <param name="Closes">The open interval(s) of that kind, subject and target that close — only the one of its version, when given.</param>
/// <param name="ClosesAll">A deletion (alone): every open interval of the model closes — only those of its version, when given.</param>
public sealed record IntervalTransition(Guid ModelId, string? Reason, IntervalTransition.Interval? Closes = null,
    IntervalTransition.Interval? Opens = null, IntervalTransition.AllOf? ClosesAll = null)
{
    public readonly record struct Interval(string Kind, string Subject, string? Target, int? Version);

    public readonly record struct AllOf(int? Version);

    /// <summary>The transition an event makes; null for an event that opens and closes nothing (metadata edits, …).</summary>
    public static IntervalTransition? Of(object data)
    {
        const string Stage = DeploymentHistory.Kinds.Stage, Alias = DeploymentHistory.Kinds.Alias,
            Deployment = DeploymentHistory.Kinds.Deployment, Name = DeploymentHistory.Kinds.Name, Archived = DeploymentHistory.Kinds.Archived;
        return data switch
        {
            ModelRegistered r => new(r.ModelId, null, Opens: new(Name, r.Name, null, null)),
            ModelRenamed r => new(r.ModelId, null, new(Name, r.OldName, null, null), new(Name, r.NewName, null, null)),
            ModelArchived a => new(a.ModelId, null, Opens: new(Archived, Archived, null, null)),
            ModelRestored r => new(r.ModelId, null, Closes: new(Archived, Archived, null, null)),
            ModelVersionRegistered v => new(v.ModelId, null, Opens: new(Stage, v.Stage, null, v.Version)),
            ModelVersionStageTransitioned t => new(t.ModelId, t.Reason, new(Stage, t.FromStage, null, t.Version), new(Stage, t.ToStage, null, t.Version)),
            // A reassignment closes the alias's open row whatever version it held.
            ModelAliasAssigned a => new(a.ModelId, null, a.PreviousVersion is null ? null : new(Alias, a.Alias, null, null),
                new(Alias, a.Alias, null, a.Version)),
            ModelAliasRemoved a => new(a.ModelId, null, Closes: new(Alias, a.Alias, null, null)),
            ModelVersionDeployed d => new(d.ModelId, null, d.PreviousVersion is null ? null : new(Deployment, d.Environment, d.Target, null),
                new(Deployment, d.Environment, d.Target, d.Version)),
            // Only the undeployed version's interval closes.
            ModelVersionUndeployed u => new(u.ModelId, null, Closes: new(Deployment, u.Environment, u.Target, u.Version)),
            ModelVersionDeleted d => new(d.ModelId, d.Reason, ClosesAll: new(d.Version)),
            ModelDeleted d => new(d.ModelId, d.Reason, ClosesAll: new(null)),
            _ => null,
        };
    }
}
