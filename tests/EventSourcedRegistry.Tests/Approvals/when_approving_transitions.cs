using EventSourcedRegistry.Access;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Approvals;

/// <summary>Four-eyes approval of protected transitions: every rule, as pure decisions folded the way production folds them.</summary>
public class when_approving_transitions
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-06-01T09:00:00+00:00");
    private static readonly Guid RequestId = Guid.Parse("01900000-0000-7000-8000-000000000001");
    private const string Requester = "key:pipeline";
    private static readonly string Digest = Given.Artifact(1).Sha256;

    /// <summary>A key <c>key:&lt;name&gt;</c> whose owner is <c>&lt;name&gt;</c> (unless given), made by <paramref name="issuers"/>.</summary>
    private static Principal Who(string actor, string? owner = null, params string[] issuers) =>
        new(actor, owner ?? actor["key:".Length..], "id-" + actor["key:".Length..], issuers);

    private static ApprovalPolicy Policy(int required = 1, TimeSpan? lifetime = null) =>
        ApprovalPolicy.From(new ApprovalOptions { RequiredApprovals = required, ApprovalLifetime = lifetime }, LifecycleGraph.Default);

    private static Decision RequestProduction(ModelView model, ApprovalPolicy policy, int version = 1, Guid? id = null,
        string requester = Requester, bool archiveExisting = false) =>
        ApprovalDecisions.RequestStage(model, policy,
            ModelDecisions.TransitionStage(model, LifecycleGraph.Default, version, LifecycleGraph.Production, "Ready.", archiveExisting),
            version, archiveExisting, Given.Artifact(version).Sha256, Who(requester), "Ready.", id ?? RequestId, T0);

    /// <summary>Version 1 in Staging, version 2 in Production, and a pending request to promote version 1.</summary>
    private static ModelView Pending(ApprovalPolicy policy) =>
        Given.Model(versions: 2).InStage(1, LifecycleGraph.Staging).InStage(2, LifecycleGraph.Production)
            .Then(m => RequestProduction(m, policy));

    private static Decision Approve(ModelView model, ApprovalPolicy policy, string approver, DateTimeOffset now,
        string? reviewed = null, string? current = null, Guid? id = null) =>
        Approve(model, policy, Who(approver), now, reviewed, current, id);

    private static Decision Approve(ModelView model, ApprovalPolicy policy, Principal approver, DateTimeOffset now,
        string? reviewed = null, string? current = null, Guid? id = null) =>
        ApprovalDecisions.Approve(model, policy, id ?? RequestId, approver, reviewed, current ?? Digest, null, now,
            r => r.Kind == TransitionKinds.Stage
                ? ModelDecisions.TransitionStage(model, LifecycleGraph.Default, r.VersionNumber, r.Target, r.Reason, r.ArchiveExisting)
                : ModelDecisions.AssignAlias(model, r.Target, r.VersionNumber));

    [Fact]
    public void entering_a_protected_stage_records_a_request_instead_of_the_transition()
    {
        var model = Given.Model(versions: 1).InStage(1, LifecycleGraph.Staging);

        var decision = RequestProduction(model, Policy(), archiveExisting: true);

        DecisionAssert.Accepted(decision, new TransitionRequested(Given.ModelId, RequestId, TransitionKinds.Stage, 1,
            LifecycleGraph.Production, true, Digest, Requester, "Ready.", T0, "pipeline", "id-pipeline", []));
        var after = model.Apply(decision);
        Assert.Equal([1], after.VersionsByStage[LifecycleGraph.Staging]);
        Assert.Equal(RequestStates.Pending, Assert.Single(after.PendingRequests).State);
    }

    [Fact]
    public void an_unprotected_stage_or_an_empty_policy_transitions_at_once()
    {
        var model = Given.Model(versions: 1);

        var staging = ApprovalDecisions.RequestStage(model, Policy(),
            ModelDecisions.TransitionStage(model, LifecycleGraph.Default, 1, LifecycleGraph.Staging, null, false),
            1, false, Digest, Who(Requester), null, RequestId, T0);
        var unprotected = RequestProduction(model, ApprovalPolicy.None);

        DecisionAssert.Single<ModelVersionStageTransitioned>(staging);
        DecisionAssert.Single<ModelVersionStageTransitioned>(unprotected);
    }

    [Fact]
    public void a_transition_the_lifecycle_refuses_is_refused_not_requested()
    {
        var model = Given.Model(versions: 1).Archived();

        DecisionAssert.Rejected(RequestProduction(model, Policy()), RejectionKind.Conflict, "archived");
        DecisionAssert.Rejected(RequestProduction(Given.Model(versions: 1), Policy(), version: 7), RejectionKind.NotFound, "version 7");
    }

    [Fact]
    public void the_requester_cannot_approve_their_own_request()
    {
        var policy = Policy();
        var model = Pending(policy);

        DecisionAssert.Rejected(Approve(model, policy, Requester, T0.AddMinutes(5)), RejectionKind.Conflict, Requester, "cannot approve");
    }

    [Fact]
    public void the_last_approval_appends_the_transition_in_the_same_decision()
    {
        var policy = Policy();
        var model = Pending(policy);

        var decision = Approve(model, policy, "key:reviewer", T0.AddMinutes(5));

        DecisionAssert.Accepted(decision,
            new TransitionApproved(Given.ModelId, RequestId, "key:reviewer", Digest, T0.AddMinutes(5), null, Completes: true, "reviewer", "id-reviewer", []),
            new ModelVersionStageTransitioned(Given.ModelId, 1, LifecycleGraph.Staging, LifecycleGraph.Production, "Ready."));
        var after = model.Apply(decision);
        Assert.Equal([1, 2], after.VersionsByStage[LifecycleGraph.Production]);
        Assert.Empty(after.PendingRequests);
    }

    [Fact]
    public void the_last_approval_archives_the_others_when_the_request_said_so()
    {
        var policy = Policy();
        var model = Given.Model(versions: 2).InStage(2, LifecycleGraph.Production)
            .Then(m => RequestProduction(m, policy, archiveExisting: true));

        var after = model.Apply(Approve(model, policy, "key:reviewer", T0.AddHours(1)));

        Assert.Equal([1], after.VersionsByStage[LifecycleGraph.Production]);
        Assert.Equal([2], after.VersionsByStage[LifecycleGraph.Archived]);
    }

    [Fact]
    public void an_approval_short_of_the_required_count_records_it_and_moves_nothing()
    {
        var policy = Policy(required: 2);
        var model = Pending(policy);

        var first = DecisionAssert.Single<TransitionApproved>(Approve(model, policy, "key:ana", T0.AddMinutes(1)));

        Assert.False(first.Completes);
        var after = model.Apply(Decision.Accept(first));
        Assert.Equal([1], after.VersionsByStage[LifecycleGraph.Staging]);
        Assert.Single(Assert.Single(after.PendingRequests).Approvals);

        var second = Approve(after, policy, "key:ben", T0.AddMinutes(2));
        Assert.True(Assert.IsType<TransitionApproved>(second.Events[0]).Completes);
        Assert.IsType<ModelVersionStageTransitioned>(second.Events[1]);
    }

    [Fact]
    public void a_duplicate_approver_does_not_count_twice()
    {
        var policy = Policy(required: 2);
        var model = Pending(policy).Then(m => Approve(m, policy, "key:ana", T0.AddMinutes(1)));

        DecisionAssert.Rejected(Approve(model, policy, "key:ana", T0.AddMinutes(2)), RejectionKind.Conflict, "already approved", "1 more");

        // Even if the stream held two approvals by one approver, they count once.
        model = model.Apply(Decision.Accept(new TransitionApproved(Given.ModelId, RequestId, "key:ana", Digest, T0.AddMinutes(3), null, false)));
        var request = Assert.Single(model.PendingRequests);
        Assert.Single(ApprovalDecisions.Counting(request, Digest, policy, T0.AddMinutes(4)));
    }

    [Fact]
    public void the_requesters_own_approval_never_counts()
    {
        var policy = Policy(required: 1);
        var model = Pending(policy).Apply(Decision.Accept(
            new TransitionApproved(Given.ModelId, RequestId, Requester, Digest, T0.AddMinutes(1), null, false)));

        Assert.Empty(ApprovalDecisions.Counting(Assert.Single(model.PendingRequests), Digest, policy, T0.AddMinutes(2)));
    }

    [Fact]
    public void an_expired_approval_does_not_count()
    {
        var policy = Policy(required: 2, lifetime: TimeSpan.FromDays(1));
        var model = Pending(policy).Then(m => Approve(m, policy, "key:ana", T0));

        // Ana's approval is a day and a minute old when Ben approves: Ben's alone is not enough.
        var late = DecisionAssert.Single<TransitionApproved>(Approve(model, policy, "key:ben", T0.AddDays(1).AddMinutes(1)));
        Assert.False(late.Completes);

        // Within its lifetime it counts.
        var inTime = Approve(model, policy, "key:ben", T0.AddDays(1).AddMinutes(-1));
        Assert.True(Assert.IsType<TransitionApproved>(inTime.Events[0]).Completes);
    }

    [Fact]
    public void an_approver_whose_approval_expired_may_approve_again()
    {
        var policy = Policy(required: 2, lifetime: TimeSpan.FromHours(8));
        var model = Pending(policy)
            .Then(m => Approve(m, policy, "key:ana", T0))
            .Then(m => Approve(m, policy, "key:ben", T0.AddDays(2)));

        var renewed = Approve(model, policy, "key:ana", T0.AddDays(2).AddHours(1));

        Assert.True(Assert.IsType<TransitionApproved>(renewed.Events[0]).Completes);
    }

    [Fact]
    public void an_approval_for_a_different_artifact_digest_does_not_count()
    {
        var policy = Policy(required: 2);
        var other = Given.Sha256("another artifact");
        var model = Pending(policy).Apply(Decision.Accept(
            new TransitionApproved(Given.ModelId, RequestId, "key:ana", other, T0.AddMinutes(1), null, false)));

        var ben = DecisionAssert.Single<TransitionApproved>(Approve(model, policy, "key:ben", T0.AddMinutes(2)));

        Assert.False(ben.Completes);
        Assert.Equal(Digest, ben.Sha256);
    }

    [Fact]
    public void an_approver_who_reviewed_another_digest_is_refused()
    {
        var policy = Policy();
        var model = Pending(policy);
        var other = Given.Sha256("another artifact");

        DecisionAssert.Rejected(Approve(model, policy, "key:ana", T0.AddMinutes(1), reviewed: other), RejectionKind.Conflict, other, Digest);
        Assert.True(Approve(model, policy, "key:ana", T0.AddMinutes(1), reviewed: Digest.ToUpperInvariant()).Events.Count == 2);
    }

    [Fact]
    public void a_changed_artifact_digest_voids_the_request_and_its_approvals()
    {
        var policy = Policy(required: 2);
        var model = Pending(policy).Then(m => Approve(m, policy, "key:ana", T0.AddMinutes(1)));
        var changed = Given.Sha256("rebuilt artifact");

        DecisionAssert.Rejected(Approve(model, policy, "key:ben", T0.AddMinutes(2), current: changed), RejectionKind.Conflict, "void", changed);
        Assert.Empty(ApprovalDecisions.Counting(Assert.Single(model.PendingRequests), changed, policy, T0.AddMinutes(2)));
    }

    [Fact]
    public void rejection_closes_the_request()
    {
        var policy = Policy(required: 2);
        var model = Pending(policy).Then(m => Approve(m, policy, "key:ana", T0.AddMinutes(1)));

        var rejected = DecisionAssert.Single<TransitionRejected>(ApprovalDecisions.Reject(model, RequestId, "key:ben", "AUC regressed on EU.", T0.AddMinutes(2)));
        Assert.Equal(("key:ben", "AUC regressed on EU."), (rejected.RejectedBy, rejected.Reason));

        var after = model.Apply(Decision.Accept(rejected));
        Assert.Empty(after.PendingRequests);
        Assert.Equal([1], after.VersionsByStage[LifecycleGraph.Staging]);
        DecisionAssert.Rejected(Approve(after, policy, "key:carl", T0.AddMinutes(3)), RejectionKind.NotFound, RequestId.ToString());
        DecisionAssert.Rejected(ApprovalDecisions.Reject(after, RequestId, "key:carl", "Again.", T0.AddMinutes(3)), RejectionKind.NotFound);

        var all = Requests(Pending(policy), Approve(Pending(policy), policy, "key:ana", T0.AddMinutes(1)), Decision.Accept(rejected));
        Assert.Equal((RequestStates.Rejected, "key:ben", "AUC regressed on EU."), (all.State, all.ClosedBy, all.ClosedReason));
    }

    [Fact]
    public void a_rejection_needs_a_reason_and_the_requester_may_withdraw_by_rejecting()
    {
        var policy = Policy();
        var model = Pending(policy);

        DecisionAssert.Rejected(ApprovalDecisions.Reject(model, RequestId, "key:ben", " ", T0), RejectionKind.Invalid, "reason");
        DecisionAssert.Single<TransitionRejected>(ApprovalDecisions.Reject(model, RequestId, Requester, "Wrong version.", T0));
    }

    [Fact]
    public void a_newer_request_for_the_same_target_supersedes_the_pending_one()
    {
        var policy = Policy();
        var newer = Guid.Parse("01900000-0000-7000-8000-000000000002");
        var model = Pending(policy);

        var decision = RequestProduction(model, policy, version: 1, id: newer);
        var old = Requests(model, decision);
        var after = model.Apply(decision);

        Assert.Equal(newer, Assert.Single(after.PendingRequests).Id);
        DecisionAssert.Rejected(Approve(after, policy, "key:ana", T0.AddMinutes(1)), RejectionKind.NotFound);
        Assert.Equal((RequestStates.Superseded, (Guid?)newer), (old.State, old.SupersededBy));
    }

    [Fact]
    public void moving_the_version_elsewhere_supersedes_its_stage_request()
    {
        var policy = Policy();
        var model = Pending(policy);

        var moved = ModelDecisions.TransitionStage(model, LifecycleGraph.Default, 1, LifecycleGraph.None, "Not yet.", false);
        var request = Requests(model, moved);
        var after = model.Apply(moved);

        Assert.Empty(after.PendingRequests);
        Assert.Equal(RequestStates.Superseded, request.State);
        Assert.Contains("moved from Staging to None", request.ClosedReason);
    }

    [Fact]
    public void a_protected_alias_is_requested_and_moves_when_approved()
    {
        var policy = Policy();
        var model = Given.Model(versions: 2).WithAlias("champion", 2);

        var request = ApprovalDecisions.RequestAlias(model, policy, ModelDecisions.AssignAlias(model, "Champion", 1), Digest, Who(Requester),
            "Better.", RequestId, T0);
        var requested = DecisionAssert.Single<TransitionRequested>(request);
        Assert.Equal((TransitionKinds.Alias, "champion", 1), (requested.Kind, requested.Target, requested.Version));
        model = model.Apply(request);
        Assert.Equal(2, model.Aliases["champion"]);

        var approved = Approve(model, policy, "key:ana", T0.AddMinutes(1));
        Assert.Equal(new ModelAliasAssigned(Given.ModelId, "champion", 1, 2), approved.Events[1]);
        Assert.Equal(1, model.Apply(approved).Aliases["champion"]);
    }

    [Fact]
    public void an_unprotected_alias_moves_at_once()
    {
        var model = Given.Model(versions: 1);

        var decision = ApprovalDecisions.RequestAlias(model, Policy(), ModelDecisions.AssignAlias(model, "challenger", 1), Digest, Who(Requester),
            null, RequestId, T0);

        DecisionAssert.Single<ModelAliasAssigned>(decision);
    }

    [Fact]
    public void when_the_transition_is_refused_at_the_last_approval_nothing_is_recorded()
    {
        var policy = Policy();
        var model = Pending(policy);

        var decision = ApprovalDecisions.Approve(model, policy, RequestId, Who("key:ana"), null, Digest, null, T0.AddMinutes(1),
            _ => Decision.Conflict("Gate: metric auc >= 0.9 is not met."));

        DecisionAssert.Rejected(decision, RejectionKind.Conflict, "auc");
    }

    [Fact]
    public void an_archived_model_accepts_no_approval()
    {
        var policy = Policy();
        var model = Pending(policy).Archived();

        DecisionAssert.Rejected(Approve(model, policy, "key:ana", T0.AddMinutes(1)), RejectionKind.Conflict, "archived");
        Assert.Single(model.PendingRequests);
    }

    /// <summary>
    /// The request as the all-requests view holds it after the model's state plus <paramref name="decisions"/>. Call it before
    /// folding those decisions into <paramref name="model"/>: folding changes the view in place.
    /// </summary>
    private static TransitionRequest Requests(ModelView model, params Decision[] decisions)
    {
        var view = new TransitionRequestsView { Id = model.Id };
        foreach (var pending in model.PendingRequests)
            view.Requests.Add(System.Text.Json.JsonSerializer.Deserialize<TransitionRequest>(System.Text.Json.JsonSerializer.Serialize(pending))!);
        foreach (var e in decisions.SelectMany(d => d.Events)) view = TransitionRequestsView.Fold(view, model.Id, e);
        return view.Requests.Single(r => r.Id == RequestId);
    }

    /// <summary>The request as its events leave it, folded the way both views fold it.</summary>
    private static TransitionRequest Folded(params object[] events)
    {
        var requests = new List<TransitionRequest>();
        TransitionRequests.Apply(requests, new TransitionRequested(Given.ModelId, RequestId, TransitionKinds.Stage, 1,
            LifecycleGraph.Production, false, Digest, Requester, "Ready.", T0, "pipeline", "id-pipeline", []));
        foreach (var e in events) TransitionRequests.Apply(requests, e);
        return requests.Single(r => r.Id == RequestId);
    }

    private static TransitionApproved ApprovedBy(string owner, DateTimeOffset at, bool completes) =>
        new(Given.ModelId, RequestId, "key:" + owner, Digest, at, null, completes, owner, "id-" + owner, []);

    [Fact]
    public void an_approved_request_counts_the_approvals_that_completed_it_however_long_ago()
    {
        // Issue 19: an approved request showed approvalsValid 0, as if nobody had approved it.
        var policy = Policy(required: 2);
        var request = Folded(ApprovedBy("alice", T0.AddHours(1), false), ApprovedBy("bob", T0.AddDays(2), true));

        Assert.Equal(RequestStates.Approved, request.State);
        Assert.Equal(["key:alice", "key:bob"], ApprovalDecisions.CountingWhenDecided(request, policy, T0.AddDays(60)).Select(a => a.Approver));
    }

    [Fact]
    public void a_pending_request_counts_what_counts_now_and_a_closed_one_what_counted_when_it_closed()
    {
        var policy = Policy(required: 2, lifetime: TimeSpan.FromDays(7));
        var pending = Folded(ApprovedBy("alice", T0, false));
        Assert.Single(ApprovalDecisions.CountingWhenDecided(pending, policy, T0.AddDays(1)));
        Assert.Empty(ApprovalDecisions.CountingWhenDecided(pending, policy, T0.AddDays(8))); // expired

        var rejected = Folded(ApprovedBy("alice", T0, false), new TransitionRejected(Given.ModelId, RequestId, "key:bob", "Recall dropped.", T0.AddDays(1)));
        Assert.Single(ApprovalDecisions.CountingWhenDecided(rejected, policy, T0.AddDays(30)));

        // Superseded by a move outside the request: its fold has no closing time, so it is judged at its last approval.
        var superseded = Folded(ApprovedBy("alice", T0, false),
            new ModelVersionStageTransitioned(Given.ModelId, 1, LifecycleGraph.Staging, LifecycleGraph.Archived, "Retired."));
        Assert.Equal(RequestStates.Superseded, superseded.State);
        Assert.Single(ApprovalDecisions.CountingWhenDecided(superseded, policy, T0.AddDays(30)));
    }
}
