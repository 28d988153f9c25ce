using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.History;

/// <summary>One interval row of <see cref="DeploymentHistory"/> as a rebuild computes it (no surrogate id).</summary>
public sealed class IntervalRow
{
    public required Guid ModelId { get; init; }
    public required string Kind { get; init; }
    public required string Subject { get; init; }
    public string? Target { get; init; }
    public int? Version { get; init; }
    public required long EnteredSeq { get; init; }
    public required DateTime EnteredAt { get; init; }
    public string? EnteredBy { get; init; }
    public string? EnteredReason { get; init; }
    public long? LeftSeq { get; set; }
    public DateTime? LeftAt { get; set; }
    public string? LeftBy { get; set; }
    public string? LeftReason { get; set; }
}

/// <summary>
/// A model's deployment-history intervals computed in memory from its events, in stream order: the same
/// entered/left pairs <see cref="DeploymentHistoryProjection"/> writes one SQL statement at a time. Pure: the
/// caller passes each event's store-assigned sequence, time, actor and request reason header.
/// </summary>
public sealed class IntervalFold
{
    private readonly List<IntervalRow> _rows = [];
    // Open rows by (kind, subject, target): a model with thousands of versions has thousands open at once.
    private readonly Dictionary<(string Kind, string Subject, string? Target), List<IntervalRow>> _open = [];

    public IReadOnlyList<IntervalRow> Rows => _rows;

    public void Apply(object data, long sequence, DateTime at, string? actor, string? headerReason)
    {
        const string Stage = DeploymentHistory.Kinds.Stage, Alias = DeploymentHistory.Kinds.Alias,
            Deployment = DeploymentHistory.Kinds.Deployment, Name = DeploymentHistory.Kinds.Name, Archived = DeploymentHistory.Kinds.Archived;
        var e = new Stamp(sequence, at, actor, headerReason);
        switch (data)
        {
            case ModelRegistered r:
                Open(e, r.ModelId, Name, r.Name, null, null, null);
                break;
            case ModelRenamed r:
                Close(e, Name, r.OldName, null, null, null);
                Open(e, r.ModelId, Name, r.NewName, null, null, null);
                break;
            case ModelArchived a:
                Open(e, a.ModelId, Archived, Archived, null, null, null);
                break;
            case ModelRestored:
                Close(e, Archived, Archived, null, null, null);
                break;
            case ModelVersionRegistered v:
                Open(e, v.ModelId, Stage, v.Stage, null, v.Version, null);
                break;
            case ModelVersionStageTransitioned t:
                Close(e, Stage, t.FromStage, null, t.Version, t.Reason);
                Open(e, t.ModelId, Stage, t.ToStage, null, t.Version, t.Reason);
                break;
            case ModelAliasAssigned a:
                if (a.PreviousVersion is not null) Close(e, Alias, a.Alias, null, null, null);
                Open(e, a.ModelId, Alias, a.Alias, null, a.Version, null);
                break;
            case ModelAliasRemoved a:
                Close(e, Alias, a.Alias, null, null, null);
                break;
            case ModelVersionDeployed d:
                if (d.PreviousVersion is not null) Close(e, Deployment, d.Environment, d.Target, null, null);
                Open(e, d.ModelId, Deployment, d.Environment, d.Target, d.Version, null);
                break;
            case ModelVersionUndeployed u:
                Close(e, Deployment, u.Environment, u.Target, u.Version, null);
                break;
            case ModelVersionDeleted d:
                CloseAll(e, d.Version, d.Reason);
                break;
            case ModelDeleted d:
                CloseAll(e, null, d.Reason);
                break;
        }
    }

    private readonly record struct Stamp(long Sequence, DateTime At, string? Actor, string? HeaderReason);

    // The projection's SQL: entered_reason = coalesce(?, headers ->> 'reason').
    private void Open(Stamp e, Guid modelId, string kind, string subject, string? target, int? version, string? reason)
    {
        var row = new IntervalRow
        {
            ModelId = modelId, Kind = kind, Subject = subject, Target = target, Version = version,
            EnteredSeq = e.Sequence, EnteredAt = e.At, EnteredBy = e.Actor, EnteredReason = reason ?? e.HeaderReason,
        };
        _rows.Add(row);
        if (!_open.TryGetValue((kind, subject, target), out var open)) _open[(kind, subject, target)] = open = [];
        open.Add(row);
    }

    // The projection's CloseAll: every open row of the model, or of one version.
    private void CloseAll(Stamp e, int? version, string? reason)
    {
        foreach (var open in _open.Values)
            CloseRows(e, version, reason, open);
    }

    // The projection's SQL closes every open row of the subject (and target, and version when given).
    private void Close(Stamp e, string kind, string subject, string? target, int? version, string? reason)
    {
        if (!_open.TryGetValue((kind, subject, target), out var open)) return;
        CloseRows(e, version, reason, open);
    }

    private static void CloseRows(Stamp e, int? version, string? reason, List<IntervalRow> open)
    {
        for (var i = open.Count - 1; i >= 0; i--)
        {
            var row = open[i];
            if (version is not null && row.Version != version) continue;
            row.LeftSeq = e.Sequence;
            row.LeftAt = e.At;
            row.LeftBy = e.Actor;
            row.LeftReason = reason ?? e.HeaderReason;
            open.RemoveAt(i);
        }
    }
}
