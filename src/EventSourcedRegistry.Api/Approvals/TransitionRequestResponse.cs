using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;

namespace EventSourcedRegistry.Api.Approvals;

/// <summary>
/// A transition request as clients see it (the shared contract <see cref="Wire.TransitionRequestInfo"/>).
/// <c>approvalsValid</c> counts the approvals that count (from owners
/// independent of the requester and of each other, for the artifact's digest, not expired): now for a pending request,
/// when it was closed for a closed one (see <see cref="ApprovalDecisions.CountingWhenDecided"/>).
/// <c>requesterOwner</c> and <c>requesterKeyId</c>: who asked, as four eyes judges it; an approval's <c>approverOwner</c>
/// and <c>approverKeyId</c>: who approved as four eyes judged it (the actor alone for approvals from before owners).
/// <c>artifactUri</c> and <c>artifactVerified</c> (on the request's reads): what the reviewer is asked to approve. Verified:
/// <c>sha256</c> is the digest of bytes the registry itself hashed, and the approvals bind to them; not verified: the
/// version is a reference (an external URI), and four eyes binds to that URI string only (with <c>sha256</c> empty or as
/// declared), not to bytes.
/// </summary>
public static class TransitionRequestResponse
{
    public static Wire.TransitionRequestInfo From(string model, TransitionRequest request, ApprovalPolicy policy, DateTimeOffset now,
        EventSourcedRegistry.Models.ArtifactReference? artifact = null) =>
        new(request.Id, model, request.Kind, request.VersionNumber, request.Target, request.ArchiveExisting, request.Sha256,
            request.RequestedBy, request.Reason, request.RequestedAt, request.State, policy.RequiredApprovals,
            ApprovalDecisions.CountingWhenDecided(request, policy, now).Count,
            request.Approvals.Select(a => new Wire.ApprovalInfo(a.Approver, a.Sha256, a.ApprovedAt, a.ApprovedAt + policy.ApprovalLifetime, a.Reason,
                a.By().Owner, a.By().KeyId)).ToList(),
            request.ClosedBy, request.ClosedReason, request.ClosedAt, request.SupersededBy,
            request.Requester().Owner, request.Requester().KeyId, artifact?.Uri, artifact?.IsVerified());

    public static string Location(string model, Guid id) => $"/api/v1/models/{Uri.EscapeDataString(model)}/requests/{id}";

    /// <summary>
    /// The answer to a command whose outcome is a new request instead of the transition: 202 Accepted with the request
    /// and its Location. Null when the command acted.
    /// </summary>
    public static CommandResponse? Accepted(CommandOutcome outcome, ApprovalPolicy policy)
    {
        if (outcome.Events is not [TransitionRequested requested]) return null;
        var request = outcome.After.PendingRequests.Find(r => r.Id == requested.RequestId)!;
        return new CommandResponse(StatusCodes.Status202Accepted,
            From(outcome.After.Name, request, policy, requested.RequestedAt), Location(outcome.After.Name, request.Id));
    }
}
