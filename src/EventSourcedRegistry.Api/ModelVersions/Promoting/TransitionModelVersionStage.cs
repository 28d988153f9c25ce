using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Access;
using EventSourcedRegistry.Api.Approvals;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.ModelVersions.Promoting;

public static class TransitionModelVersionStageEndpoint
{
    /// <summary>
    /// Moves a version along the lifecycle graph; with archiveExisting the versions it displaces from the
    /// target stage are archived in the same commit. Entering a protected stage records a transition request
    /// instead and answers 202 Accepted with it; the move happens when the last approval lands.
    /// </summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.ModelVersionInfo>(StatusCodes.Status200OK)]
    [ProducesResponseType<Wire.TransitionRequestInfo>(StatusCodes.Status202Accepted)]
    [RequestExample("""{"stage": "Production", "reason": "AUC 0.91 on the holdout set", "archiveExisting": true}""")]
    [WolverinePost("/api/v1/models/{name}/versions/{version}/stage", OperationId = "TransitionModelVersionStage")]
    [PolicyConfirmedInCommand]
    public static async Task<IResult> Post(string name, string version, TransitionModelVersionStage? request, HttpContext http,
        ModelCommands commands, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals, TimeProvider time)
    {
        if (request is null) return Problems.BodyRequired("{\"stage\", \"reason\"?, \"archiveExisting\"?}");
        if (ModelLookup.ParseVersion(version) is not { } number) return ModelLookup.BadVersion(version);
        var errors = new List<(string, string)>();
        // The stage errors are the policy's refusals (and name its stages): made only by a confirmed policy.
        if (string.IsNullOrWhiteSpace(request.Stage))
        {
            PolicyResolution.Confirm(http);
            errors.Add(("stage", $"A target stage is required: one of {string.Join(", ", lifecycle.Stages)}."));
        }
        else if (lifecycle.Resolve(request.Stage) is null)
        {
            PolicyResolution.Confirm(http);
            errors.Add(("stage", $"'{(request.Stage.Length > 40 ? request.Stage[..40] + "…" : request.Stage)}' is not a stage. The stages are: {string.Join(", ", lifecycle.Stages)}."));
        }
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) errors.Add(("reason", r));
        if (errors.Count > 0) return Problems.Validation(errors);

        ModelVersionView? current = null;
        var requestId = Guid.CreateVersion7();
        // Who is asking, as four eyes judges it: the same authenticated caller every appended event records as its actor.
        var requester = AccessClaims.PrincipalOf(http.User)!;
        return await commands.Execute(http, name, request, request.Reason,
            async (model, session, ct) =>
            {
                // Read before deciding: the target stage's gates are checked against it (and the response shows it).
                current = model.HasVersion(number)
                    ? await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, number), ct)
                    : null;
                var decision = ModelDecisions.TransitionStage(model, lifecycle, number, request.Stage!, request.Reason,
                    request.ArchiveExisting ?? false, current);
                if (decision.IsRejected) return decision;
                return ApprovalDecisions.RequestStage(model, approvals, decision, number, request.ArchiveExisting ?? false,
                    current!.Artifact.Sha256, requester, request.Reason, requestId, time.GetUtcNow());
            },
            (outcome, _) => ValueTask.FromResult(TransitionRequestResponse.Accepted(outcome, approvals)
                                                 ?? VersionResponses.After(outcome, current!, number)),
            version: number);
    }
}
