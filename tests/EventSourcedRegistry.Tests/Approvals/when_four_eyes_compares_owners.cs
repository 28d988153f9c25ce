using EventSourcedRegistry.Access;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Tests.Support;

namespace EventSourcedRegistry.Tests.Approvals;

/// <summary>
/// Issue 13, item 5: four eyes compares people, not key names. Before, an approval was refused only when its actor
/// (<c>key:&lt;name&gt;</c>) equalled the requester's, so a second key of the same person, a key the requester made, or
/// an approver approving a request made with a key they made all counted.
/// </summary>
public class when_four_eyes_compares_owners
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-06-01T09:00:00+00:00");
    private static readonly Guid RequestId = Guid.Parse("01900000-0000-7000-8000-0000000000a1");

    private static Principal Key(string name, string owner, params string[] issuers) => new("key:" + name, owner, "id-" + name, issuers);

    private static ApprovalPolicy Policy(int required = 1) =>
        ApprovalPolicy.From(new ApprovalOptions { RequiredApprovals = required }, LifecycleGraph.Default);

    private static ModelView Requested(Principal requester, ApprovalPolicy policy) =>
        Given.Model(versions: 1).InStage(1, LifecycleGraph.Staging).Then(m => ApprovalDecisions.RequestStage(m, policy,
            ModelDecisions.TransitionStage(m, LifecycleGraph.Default, 1, LifecycleGraph.Production, "Ready.", false),
            1, false, Given.Artifact(1).Sha256, requester, "Ready.", RequestId, T0));

    private static Decision Approve(ModelView model, ApprovalPolicy policy, Principal approver, DateTimeOffset? at = null) =>
        ApprovalDecisions.Approve(model, policy, RequestId, approver, null, Given.Artifact(1).Sha256, null, at ?? T0.AddMinutes(5),
            r => ModelDecisions.TransitionStage(model, LifecycleGraph.Default, r.VersionNumber, r.Target, r.Reason, r.ArchiveExisting));

    [Fact]
    public void a_second_key_of_the_requesters_owner_cannot_approve()
    {
        var policy = Policy();
        var model = Requested(Key("alice-ci", "alice@example.com", "ops"), policy);

        var own = Approve(model, policy, Key("alice-approver", "Alice@Example.com", "ops"));

        DecisionAssert.Rejected(own, RejectionKind.Conflict, "key:alice-approver", "cannot approve", "both belong to Alice@Example.com");
    }

    [Fact]
    public void a_key_the_requester_issued_cannot_approve_even_for_another_owner_or_further_down_the_chain()
    {
        var policy = Policy();
        var model = Requested(Key("alice-admin", "alice", "ops"), policy);

        // Alice made a key for an owner "carol", and that key made one for "dave": Alice saw both secrets.
        DecisionAssert.Rejected(Approve(model, policy, Key("carol", "carol", "alice", "ops")), RejectionKind.Conflict, "key:carol is a key alice issued");
        DecisionAssert.Rejected(Approve(model, policy, Key("dave", "dave", "carol", "alice", "ops")), RejectionKind.Conflict, "alice issued");
    }

    [Fact]
    public void a_request_made_with_a_key_the_approver_issued_cannot_be_approved_by_them()
    {
        var policy = Policy();
        // Bob (an admin) made the pipeline key; the pipeline requests; Bob may not approve what his own key asked for.
        var model = Requested(Key("churn-ci", "churn-training", "bob"), policy);

        DecisionAssert.Rejected(Approve(model, policy, Key("bob", "bob", "ops")), RejectionKind.Conflict, "key:churn-ci is a key bob issued");
        Assert.True(Assert.IsType<TransitionApproved>(Approve(model, policy, Key("erin", "erin", "ops")).Events[0]).Completes);
    }

    [Fact]
    public void an_admin_cannot_approve_their_own_request_with_a_key_they_minted_for_it()
    {
        var policy = Policy();
        var admin = Key("alice-admin", "alice", "ops");
        var model = Requested(admin, policy);

        // Whatever owner the admin writes on the new key, it lists the admin as its issuer.
        DecisionAssert.Rejected(Approve(model, policy, Key("alice-2", "alice", "alice", "ops")), RejectionKind.Conflict, "cannot approve");
        DecisionAssert.Rejected(Approve(model, policy, Key("not-alice", "mallory", "alice", "ops")), RejectionKind.Conflict, "cannot approve");
    }

    [Fact]
    public void n_required_approvals_need_n_owners_independent_of_each_other()
    {
        var policy = Policy(required: 2);
        var model = Requested(Key("churn-ci", "churn-training", "ops"), policy)
            .Then(m => Approve(m, policy, Key("ana", "ana", "ops")));

        DecisionAssert.Rejected(Approve(model, policy, Key("ana-2", "ana", "ops")), RejectionKind.Conflict, "cannot add an approval", "1 more");
        DecisionAssert.Rejected(Approve(model, policy, Key("ana-made", "ghost", "ana", "ops")), RejectionKind.Conflict, "ana issued");

        var ben = Approve(model, policy, Key("ben", "ben", "ops"));
        Assert.True(Assert.IsType<TransitionApproved>(ben.Events[0]).Completes);
    }

    [Fact]
    public void approvals_that_are_one_party_count_once_even_if_the_stream_holds_them()
    {
        var policy = Policy(required: 2);
        var digest = Given.Artifact(1).Sha256;
        var model = Requested(Key("churn-ci", "churn-training", "ops"), policy).Apply(Decision.Accept(
            new TransitionApproved(Given.ModelId, RequestId, "key:ana", digest, T0.AddMinutes(1), null, false, "ana", "id-ana", ["ops"]),
            new TransitionApproved(Given.ModelId, RequestId, "key:ana-2", digest, T0.AddMinutes(2), null, false, "ANA", "id-ana-2", ["ops"]),
            new TransitionApproved(Given.ModelId, RequestId, "key:ghost", digest, T0.AddMinutes(3), null, false, "ghost", "id-ghost", ["ana"]),
            new TransitionApproved(Given.ModelId, RequestId, "key:self", digest, T0.AddMinutes(4), null, false, "churn-training", "id-self", ["ops"])));

        var counting = ApprovalDecisions.Counting(Assert.Single(model.PendingRequests), digest, policy, T0.AddMinutes(5));

        Assert.Equal(["key:ana"], counting.Select(a => a.Approver));
    }

    [Fact]
    public void the_events_record_the_owner_and_key_each_decision_was_based_on()
    {
        var policy = Policy();
        var model = Requested(Key("churn-ci", "churn-training", "bob", "ops"), policy);
        var requested = Assert.Single(model.PendingRequests);

        var approved = Assert.IsType<TransitionApproved>(Approve(model, policy, Key("erin", "erin", "ops")).Events[0]);

        Assert.Equal(("churn-training", "id-churn-ci"), (requested.RequesterOwner, requested.RequesterKeyId));
        Assert.Equal(["bob", "ops"], requested.RequesterKeyIssuers!);
        Assert.Equal(("key:erin", "erin", "id-erin"), (approved.Approver, approved.ApproverOwner, approved.ApproverKeyId));
        Assert.Equal(["ops"], approved.ApproverKeyIssuers!);
    }

    [Fact]
    public void a_token_and_a_key_with_the_tokens_subject_as_owner_are_one_person()
    {
        var policy = Policy();
        var model = Requested(new Principal("jwt:alice", "alice", null, []), policy);

        DecisionAssert.Rejected(Approve(model, policy, Key("alice-approver", "alice", "ops")), RejectionKind.Conflict, "both belong to alice");
        Assert.Equal("alice", Principal.OwnerOfActor("jwt:alice"));
    }

    /// <summary>Before owners: a request and an approval stored without the owner fields, as the committed contracts showed them.</summary>
    [Fact]
    public void events_from_before_owners_load_and_fold_with_the_actor_as_owner()
    {
        const string requested = """
            {"modelId":"6f1c2a0e-8d4b-4b5e-9a57-3c2d1e0f9a01","requestId":"01900000-0000-7000-8000-0000000000a1","kind":"stage","version":1,
             "target":"Production","archiveExisting":false,"sha256":"SHA","requestedBy":"key:training-pipeline","reason":"Ready.",
             "requestedAt":"2026-06-01T09:00:00+00:00"}
            """;
        const string approved = """
            {"modelId":"6f1c2a0e-8d4b-4b5e-9a57-3c2d1e0f9a01","requestId":"01900000-0000-7000-8000-0000000000a1","approver":"key:release-manager",
             "sha256":"SHA","approvedAt":"2026-06-01T09:05:00+00:00","reason":"Reviewed.","completes":false}
            """;
        var digest = Given.Artifact(1).Sha256;
        var oldRequest = EventJson.Deserialize<TransitionRequested>(requested.Replace("SHA", digest));
        var oldApproval = EventJson.Deserialize<TransitionApproved>(approved.Replace("SHA", digest));
        Assert.Null(oldRequest.RequesterOwner);
        Assert.Null(oldApproval.ApproverKeyIssuers);

        var policy = Policy(required: 2);
        var model = Given.Model(versions: 1).InStage(1, LifecycleGraph.Staging).Apply(Decision.Accept(oldRequest, oldApproval));
        var request = Assert.Single(model.PendingRequests);

        Assert.Equal(Principal.FromActor("key:training-pipeline"), request.Requester() with { Issuers = [] });
        Assert.Equal("key:release-manager", Assert.Single(ApprovalDecisions.Counting(request, digest, policy, T0.AddMinutes(10))).By().Owner);
        // The key of before, given itself as owner by the upgrade, is still the approver of its old approval.
        DecisionAssert.Rejected(Approve(model, policy, new Principal("key:release-manager", "key:release-manager", "0a1b2c3d4e5f6071", [])),
            RejectionKind.Conflict, "already approved");
        Assert.True(Assert.IsType<TransitionApproved>(Approve(model, policy, Key("erin", "erin")).Events[0]).Completes);
    }
}
