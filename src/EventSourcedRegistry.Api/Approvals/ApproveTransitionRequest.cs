using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Access;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Contracts;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Approvals;

public static class ApproveTransitionRequestEndpoint
{
    /// <summary>
    /// Approves a pending request. When this is the last approval needed, the transition is decided again against
    /// the model as it is now (lifecycle, gates) and appended in the same commit as the approval.
    /// </summary>
    [Authorize(Policy = Policies.Approve)]
    [ProducesResponseType<Wire.TransitionRequestInfo>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/requests/{id}/approve", OperationId = "ApproveTransitionRequest")]
    public static async Task<IResult> Post(string name, string id, ApproveTransitionRequest? request, HttpContext http,
        ModelCommands commands, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals, TimeProvider time)
    {
        if (request is null) return Problems.BodyRequired("{\"sha256\"?, \"reason\"?}");
        var errors = new List<(string, string)>();
        if (!Guid.TryParse(id, out var requestId)) errors.Add(("id", TransitionRequestLookup.BadId(id)));
        string? reviewed = null;
        if (request.Sha256 is not null && !Sha256Digest.TryParse(request.Sha256, out reviewed, out var problem))
            errors.Add(("sha256", $"The reviewed artifact's sha256 {problem} Give {Sha256Digest.AcceptedForms}."));
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) errors.Add(("reason", r));
        if (errors.Count > 0) return Problems.Validation(errors);

        DateTimeOffset now = default;
        // Who is asking, as four eyes judges it: the same authenticated caller every appended event records as its actor.
        var approver = AccessClaims.PrincipalOf(http.User)!;
        return await commands.Execute(http, name, request, request.Reason,
            async (model, session, ct) =>
            {
                var pending = model.PendingRequests.Find(p => p.Id == requestId);
                if (pending is null) return await TransitionRequestLookup.NotPending(model, requestId, session, ct);
                var version = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, pending.VersionNumber), ct);
                now = time.GetUtcNow();
                return Decide(model, version!, lifecycle, approvals, requestId, approver, reviewed, request.Reason, now);
            },
            (outcome, _) => ValueTask.FromResult(TransitionRequestLookup.After(outcome, requestId, approvals, now)));
    }

    /// <summary>
    /// The approval's decision against the model and the request's version as they are: also what the console asks,
    /// without appending, to offer an approve button only where this decision would accept.
    /// </summary>
    public static Decision Decide(ModelView model, ModelVersionView version, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals,
        Guid requestId, EventSourcedRegistry.Access.Principal approver, string? reviewedSha256, string? reason, DateTimeOffset now) =>
        ApprovalDecisions.Approve(model, approvals, requestId, approver, reviewedSha256, version.Artifact.Sha256, reason, now,
            // The same decisions as a direct command, against the state of this moment.
            r => r.Kind == TransitionKinds.Stage
                ? ModelDecisions.TransitionStage(model, lifecycle, r.VersionNumber, r.Target, r.Reason, r.ArchiveExisting, version)
                : ModelDecisions.AssignAlias(model, r.Target, r.VersionNumber));
}
