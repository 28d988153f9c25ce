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
/// A model's deployment-history intervals computed in memory from its events, in stream order: the
/// <see cref="IntervalTransition"/>s that <see cref="DeploymentHistoryProjection"/> writes one SQL statement at a time.
/// Pure: the caller passes each event's store-assigned sequence, time, actor and request reason header.
/// </summary>
public sealed class IntervalFold
{
    private readonly List<IntervalRow> _rows = [];
    // Open rows by (kind, subject, target): a model with thousands of versions has thousands open at once.
    private readonly Dictionary<(string Kind, string Subject, string? Target), List<IntervalRow>> _open = [];

    public IReadOnlyList<IntervalRow> Rows => _rows;

    public void Apply(object data, long sequence, DateTime at, string? actor, string? headerReason)
    {
        if (IntervalTransition.Of(data) is not { } t) return;
        // The projection's SQL: entered_reason / left_reason = coalesce(?, headers ->> 'reason').
        var e = new Stamp(sequence, at, actor, t.Reason ?? headerReason);
        if (t.ClosesAll is { } all)
            foreach (var open in _open.Values) Close(e, all.Version, open);
        if (t.Closes is { } c && _open.TryGetValue((c.Kind, c.Subject, c.Target), out var rows)) Close(e, c.Version, rows);
        if (t.Opens is { } o) Open(e, t.ModelId, o);
    }

    private readonly record struct Stamp(long Sequence, DateTime At, string? Actor, string? Reason);

    private void Open(Stamp e, Guid modelId, IntervalTransition.Interval opened)
    {
        var row = new IntervalRow
        {
            ModelId = modelId, Kind = opened.Kind, Subject = opened.Subject, Target = opened.Target, Version = opened.Version,
            EnteredSeq = e.Sequence, EnteredAt = e.At, EnteredBy = e.Actor, EnteredReason = e.Reason,
        };
        _rows.Add(row);
        var key = (opened.Kind, opened.Subject, opened.Target);
        if (!_open.TryGetValue(key, out var open)) _open[key] = open = [];
        open.Add(row);
    }

    // The projection's SQL closes every open row of the subject (and target, and version when given).
    private static void Close(Stamp e, int? version, List<IntervalRow> open)
    {
        for (var i = open.Count - 1; i >= 0; i--)
        {
            var row = open[i];
            if (version is not null && row.Version != version) continue;
            row.LeftSeq = e.Sequence;
            row.LeftAt = e.At;
            row.LeftBy = e.Actor;
            row.LeftReason = e.Reason;
            open.RemoveAt(i);
        }
    }
}
