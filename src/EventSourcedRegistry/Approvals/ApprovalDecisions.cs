using EventSourcedRegistry.Access;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Approvals;

/// <summary>
/// The four-eyes rules: pure functions of (model state, command, policy, now). The transition a request asks for is
/// always decided by the ordinary decision (<see cref="ModelDecisions.TransitionStage"/> or
/// <see cref="ModelDecisions.AssignAlias"/>, with whatever gates apply there): once when it is requested, so a
/// request is only made for a transition that could happen, and again, against the state of that moment, when the
/// last approval lands.
/// Four eyes compares people, not key names: an approval counts only from a principal independent of the requester
/// and of every other counting approver (<see cref="Principal.SameParty"/>: another owner, who neither issued nor
/// holds a key issued by the other).
/// </summary>
public static class ApprovalDecisions
{
    /// <summary>The title of the refusal of a rollback that would bypass four eyes.</summary>
    public const string ApprovalRequired = "Approval required";

    /// <summary>
    /// Turns a decided stage transition into a request when the version would enter a protected stage. Anything
    /// else (a refusal, a version already there, an unprotected stage) stays as decided.
    /// </summary>
    public static Decision RequestStage(ModelView model, ApprovalPolicy policy, Decision decided, int version, bool archiveExisting,
        string sha256, Principal requester, string? reason, Guid requestId, DateTimeOffset now)
    {
        if (decided.IsRejected) return decided;
        var entering = decided.Events.OfType<ModelVersionStageTransitioned>().FirstOrDefault(t => t.Version == version);
        if (entering is null || !policy.ProtectsStage(entering.ToStage)) return decided;
        return Decision.Accept(Requested(model, requestId, TransitionKinds.Stage, version, entering.ToStage, archiveExisting, sha256,
            requester, reason, now));
    }

    /// <summary>Turns a decided alias move into a request when the alias is protected.</summary>
    public static Decision RequestAlias(ModelView model, ApprovalPolicy policy, Decision decided, string sha256, Principal requester,
        string? reason, Guid requestId, DateTimeOffset now)
    {
        if (decided.IsRejected) return decided;
        var moved = decided.Events.OfType<ModelAliasAssigned>().FirstOrDefault();
        if (moved is null || !policy.ProtectsAlias(moved.Alias)) return decided;
        return Decision.Accept(Requested(model, requestId, TransitionKinds.Alias, moved.Version, moved.Alias, false, sha256,
            requester, reason, now));
    }

    private static TransitionRequested Requested(ModelView model, Guid requestId, string kind, int version, string target,
        bool archiveExisting, string sha256, Principal requester, string? reason, DateTimeOffset now) =>
        new(model.Id, requestId, kind, version, target, archiveExisting, sha256, requester.Actor, reason, now,
            requester.Owner, requester.KeyId, [.. requester.Issuers]);

    /// <summary>
    /// The approvals a request shows as counting (<c>approvalsValid</c>): for a pending request, those that count now;
    /// for a closed one, those that counted when it was closed, so an approved request shows the approvals that
    /// completed it however long ago that was. A request superseded by a move outside it has no closing time in its
    /// fold: no approval can arrive after its last one, so it is judged as of that approval.
    /// </summary>
    public static IReadOnlyList<Approval> CountingWhenDecided(TransitionRequest request, ApprovalPolicy policy, DateTimeOffset now)
    {
        var at = request.IsPending ? now
            : request.ClosedAt ?? (request.Approvals.Count > 0 ? request.Approvals.Max(a => a.ApprovedAt) : request.RequestedAt);
        return Counting(request, request.Sha256, policy, at);
    }

    /// <summary>
    /// The approvals that count now: for the version's current artifact digest, younger than the policy's lifetime,
    /// the latest per approver, and only from principals independent of the requester and of each other (earliest
    /// first: a later approval by the same party as an earlier counting one adds nothing).
    /// </summary>
    public static IReadOnlyList<Approval> Counting(TransitionRequest request, string currentSha256, ApprovalPolicy policy, DateTimeOffset now)
    {
        var requester = request.Requester();
        var counting = new List<Approval>();
        var candidates = request.Approvals
            .Where(a => string.Equals(a.Sha256, currentSha256, StringComparison.OrdinalIgnoreCase))
            .Where(a => !IsExpired(a, policy, now))
            .GroupBy(a => a.Approver, StringComparer.Ordinal)
            .Select(g => g.MaxBy(a => a.ApprovedAt)!)
            .OrderBy(a => a.ApprovedAt);
        foreach (var approval in candidates)
        {
            var by = approval.By();
            if (Principal.SameParty(by, requester) is null && counting.All(c => Principal.SameParty(by, c.By()) is null))
                counting.Add(approval);
        }
        return counting;
    }

    /// <summary>
    /// The rollback's four eyes: a plan that would move a version into a protected stage or move a protected alias is
    /// refused (409) with a pointer to the approval flow, since a rollback performs its moves at once and nobody else
    /// would look at them. Leaving a protected stage and removing a protected alias stay allowed (they put nothing into
    /// service). Returns the plan with those changes marked <see cref="RollbackChange.RequiresApproval"/>, and the
    /// refusal, or <paramref name="decided"/> as it was.
    /// </summary>
    public static (IReadOnlyList<RollbackChange> Plan, Decision Decision) GateRollback(ModelView model, ApprovalPolicy policy,
        IReadOnlyList<RollbackChange> plan, Decision decided)
    {
        var marked = plan.Select(c => NeedsApproval(c, policy) ? c with { RequiresApproval = true } : c).ToList();
        var gated = marked.Where(c => c.RequiresApproval).ToList();
        if (decided.IsRejected || gated.Count == 0) return (marked, decided);
        var moves = string.Join("; ", gated.Select(c => c.Kind == RollbackPlanner.Alias
            ? $"alias {c.Subject} → version {c.Version}"
            : $"version {c.Version}: {c.From} → {c.To}"));
        return (marked, Decision.Reject(RejectionKind.Conflict, ApprovalRequired,
            $"Rolling '{model.Name}' back would put versions into service that need four-eyes approval ({moves}), and a rollback " +
            "performs its moves at once. Request each of them instead (POST /api/v1/models/{name}/versions/{version}/stage or " +
            "PUT /api/v1/models/{name}/aliases/{alias}, answered 202 with the request) and have another owner approve it " +
            "(POST /api/v1/models/{name}/requests/{id}/approve); or roll back to a point that leaves the protected stages and aliases as they are. " +
            "Nothing was changed.",
            new Dictionary<string, object?> { ["changesNeedingApproval"] = gated, ["plan"] = marked }));
    }

    /// <summary>Whether a rollback's change moves a version into a protected stage or moves (assigns) a protected alias.</summary>
    public static bool NeedsApproval(RollbackChange change, ApprovalPolicy policy) => change.Kind == RollbackPlanner.Alias
        ? change.Version is not null && policy.ProtectsAlias(change.Subject)
        : change.To is { } to && policy.ProtectsStage(to);

    public static bool IsExpired(Approval approval, ApprovalPolicy policy, DateTimeOffset now) =>
        now >= approval.ApprovedAt + policy.ApprovalLifetime;

    /// <summary>
    /// Records an approval of a pending request. <paramref name="currentSha256"/> is the version's artifact digest
    /// now; <paramref name="reviewedSha256"/> the one the approver says they reviewed (optional; a mismatch is refused).
    /// When this approval makes the count, <paramref name="enact"/> decides the transition against the current state
    /// and its events follow the approval in the same commit; if that decision refuses, nothing is recorded.
    /// </summary>
    public static Decision Approve(ModelView model, ApprovalPolicy policy, Guid requestId, Principal approver, string? reviewedSha256,
        string currentSha256, string? reason, DateTimeOffset now, Func<TransitionRequest, Decision> enact)
    {
        if (model.Archived) return Decision.Conflict($"Model '{model.Name}' is archived and accepts no commands but restore.");
        var request = model.PendingRequests.Find(r => r.Id == requestId);
        if (request is null) return NotPending(model, requestId);
        var requester = request.Requester();
        if (string.Equals(approver.Actor, requester.Actor, StringComparison.Ordinal))
            return Decision.Conflict($"{approver.Actor} made request {requestId} and cannot approve it: four eyes means somebody else approves.");
        if (Principal.SameParty(approver, requester) is { } same)
            return Decision.Conflict($"{approver.Actor} cannot approve request {requestId}, which {requester.Actor} made: {same}. " +
                                     "Four eyes means another owner approves, one who neither issued the requester's key nor holds a key the requester issued.");
        if (reviewedSha256 is not null && !string.Equals(reviewedSha256, currentSha256, StringComparison.OrdinalIgnoreCase))
            return Decision.Conflict($"The approval names artifact sha256 {reviewedSha256.ToLowerInvariant()}, but version {request.VersionNumber}'s " +
                                     $"artifact is {currentSha256}; review that artifact and approve again.");
        if (!string.Equals(request.Sha256, currentSha256, StringComparison.OrdinalIgnoreCase))
            return Decision.Conflict($"Request {requestId} was made for artifact sha256 {request.Sha256}, but version {request.VersionNumber}'s " +
                                     $"artifact is now {currentSha256}; the request is void, request the transition again.");

        var counting = Counting(request, currentSha256, policy, now);
        if (counting.FirstOrDefault(a => string.Equals(a.Approver, approver.Actor, StringComparison.Ordinal)) is not null)
            return Decision.Conflict($"{approver.Actor} has already approved request {requestId}; it needs " +
                                     $"{policy.RequiredApprovals - counting.Count} more approval(s) from other approvers.");
        foreach (var other in counting)
        {
            if (Principal.SameParty(approver, other.By()) is { } alike)
                return Decision.Conflict($"{approver.Actor} cannot add an approval to request {requestId}: {alike}, and {other.Approver} " +
                                         $"has approved it already. It needs {policy.RequiredApprovals - counting.Count} more approval(s) from other owners.");
        }

        var completes = counting.Count + 1 >= policy.RequiredApprovals;
        var approved = new TransitionApproved(model.Id, requestId, approver.Actor, currentSha256.ToLowerInvariant(), now, reason, completes,
            approver.Owner, approver.KeyId, [.. approver.Issuers]);
        if (!completes) return Decision.Accept(approved);

        var transition = enact(request);
        if (transition.IsRejected) return transition;
        return Decision.Accept([approved, .. transition.Events]);
    }

    /// <summary>Closes a pending request. Any approver may reject, the requester too (that is how a request is withdrawn).</summary>
    public static Decision Reject(ModelView model, Guid requestId, string rejecter, string reason, DateTimeOffset now)
    {
        if (model.Archived) return Decision.Conflict($"Model '{model.Name}' is archived and accepts no commands but restore.");
        if (string.IsNullOrWhiteSpace(reason)) return Decision.Invalid("A rejection needs a reason.");
        if (model.PendingRequests.Find(r => r.Id == requestId) is null) return NotPending(model, requestId);
        return Decision.Accept(new TransitionRejected(model.Id, requestId, rejecter, reason, now));
    }

    /// <summary>
    /// The refusal for a request that is not pending: the model view holds only pending requests, so whether it is
    /// closed or unknown is for the caller to tell (see <see cref="Closed"/>).
    /// </summary>
    private static Decision NotPending(ModelView model, Guid requestId) =>
        Decision.NotFound($"Model '{model.Name}' has no pending request {requestId}.");

    /// <summary>The refusal for acting on a request that exists but is closed.</summary>
    public static Decision Closed(TransitionRequest request) =>
        Decision.Conflict($"Request {request.Id} is {request.State}" +
                          (request.ClosedReason is { } why ? $" ({why.TrimEnd('.')})" : "") +
                          "; only a pending request can be approved or rejected.");
}
