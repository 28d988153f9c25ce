using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Validation;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Approvals;

public static class RejectTransitionRequestEndpoint
{
    /// <summary>Rejects a pending request, which closes it. A reason is required. The requester may reject (withdraw) their own.</summary>
    [Authorize(Policy = Policies.Approve)]
    [ProducesResponseType<Wire.TransitionRequestInfo>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/requests/{id}/reject", OperationId = "RejectTransitionRequest")]
    public static async Task<IResult> Post(string name, string id, RejectTransitionRequest? request, HttpContext http,
        ModelCommands commands, ApprovalPolicy approvals, TimeProvider time)
    {
        if (request is null) return Problems.BodyRequired("{\"reason\"}");
        var errors = new List<(string, string)>();
        if (!Guid.TryParse(id, out var requestId)) errors.Add(("id", TransitionRequestLookup.BadId(id)));
        if (string.IsNullOrWhiteSpace(request.Reason)) errors.Add(("reason", "A rejection needs a reason."));
        else if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) errors.Add(("reason", r));
        if (errors.Count > 0) return Problems.Validation(errors);

        DateTimeOffset now = default;
        return await commands.Execute(http, name, request, request.Reason,
            async (model, session, ct) =>
            {
                if (model.PendingRequests.All(p => p.Id != requestId))
                    return await TransitionRequestLookup.NotPending(model, requestId, session, ct);
                now = time.GetUtcNow();
                return ApprovalDecisions.Reject(model, requestId, session.LastModifiedBy!, request.Reason!, now);
            },
            (outcome, _) => ValueTask.FromResult(TransitionRequestLookup.After(outcome, requestId, approvals, now)));
    }
}
