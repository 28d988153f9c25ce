using System.Text.Json;

namespace EventSourcedRegistry.Api.WebConsole;

/// <summary>
/// Who put a version in its stage and with whose approval, read from the model's own events: a transition that completed
/// a four-eyes request is appended in the same commit right after the approval that completed it
/// (<c>TransitionApproved</c> with <c>completes</c>), so the request is the one whose completing approval precedes the
/// transition within that commit; its <c>TransitionRequested</c> names the requester and its approvals the approvers.
/// </summary>
public static class StageProvenance
{
    /// <summary>One approval of the request: who, when, why.</summary>
    public sealed record Approval(string Approver, DateTimeOffset At, string? Reason);

    /// <summary>The request behind a transition: who asked, when and why, and the approvals it collected up to the transition.</summary>
    public sealed record Request(Guid Id, string RequestedBy, DateTimeOffset RequestedAt, string? Reason, IReadOnlyList<Approval> Approvals);

    /// <summary>The transition that put a version in its stage (the event at <paramref name="Sequence"/>) and its request, if it had one.</summary>
    public sealed record Entry(long Sequence, DateTimeOffset At, string? Actor, string? Reason, Request? Request);

    /// <summary>
    /// For each sequence in <paramref name="transitions"/> (a <c>ModelVersionStageTransitioned</c> of the model), the event and
    /// the request it completed; a sequence not in <paramref name="history"/> (older than what was read) is left out.
    /// </summary>
    public static IReadOnlyDictionary<long, Entry> Of(IReadOnlyList<Wire.HistoryEntry> history, IEnumerable<long> transitions)
    {
        var bySequence = history.Select((e, i) => (e, i)).ToDictionary(p => p.e.Sequence, p => p.i);
        var result = new Dictionary<long, Entry>();
        foreach (var sequence in transitions.Distinct())
        {
            if (!bySequence.TryGetValue(sequence, out var index)) continue;
            var transition = history[index];
            // The transition's own reason (a request's, when it completed one), else the command's, as the registry's changes read it.
            result[sequence] = new Entry(transition.Sequence, transition.Timestamp, transition.Actor, Text(transition.Data, "reason") ?? transition.Reason,
                CompletedRequest(history, index));
        }
        return result;
    }

    private static Request? CompletedRequest(IReadOnlyList<Wire.HistoryEntry> history, int index)
    {
        var transition = history[index];
        // Walk back through the same commit: consecutive revisions, the same correlation id, the transition's own kind of
        // events (an archiveExisting promotion appends several transitions after the one approval).
        for (var i = index - 1; i >= 0; i--)
        {
            var e = history[i];
            if (e.Revision != history[i + 1].Revision - 1 || e.CorrelationId != transition.CorrelationId) return null;
            if (e.Type == "TransitionApproved")
            {
                if (!Bool(e.Data, "completes")) return null;
                return RequestOf(history, i, Guid(e.Data, "requestId"));
            }
            if (e.Type is not ("ModelVersionStageTransitioned" or "ModelAliasAssigned" or "ModelAliasRemoved")) return null;
        }
        return null;
    }

    private static Request? RequestOf(IReadOnlyList<Wire.HistoryEntry> history, int completing, Guid? id)
    {
        if (id is null) return null;
        var approvals = new List<Approval>();
        Wire.HistoryEntry? requested = null;
        for (var i = 0; i <= completing; i++)
        {
            var e = history[i];
            if (Guid(e.Data, "requestId") != id) continue;
            if (e.Type == "TransitionRequested") requested = e;
            else if (e.Type == "TransitionApproved")
                approvals.Add(new Approval(Text(e.Data, "approver") ?? e.Actor ?? "", Time(e.Data, "approvedAt") ?? e.Timestamp, Text(e.Data, "reason")));
        }
        return requested is null
            ? new Request(id.Value, "", default, null, approvals)
            : new Request(id.Value, Text(requested.Data, "requestedBy") ?? requested.Actor ?? "", Time(requested.Data, "requestedAt") ?? requested.Timestamp,
                Text(requested.Data, "reason"), approvals);
    }

    private static bool Bool(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static string? Text(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Guid? Guid(JsonElement data, string name) =>
        Text(data, name) is { } s && System.Guid.TryParse(s, out var id) ? id : null;

    private static DateTimeOffset? Time(JsonElement data, string name) =>
        data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var at) ? at : null;
}
