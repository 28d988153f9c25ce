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
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Aliases;

public static class AssignAliasEndpoint
{
    /// <summary>
    /// Points an alias at a version; moving it records the version it pointed at before. Assigning a protected alias
    /// records a transition request instead and answers 202 Accepted with it.
    /// </summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.AliasInfo>(StatusCodes.Status200OK)]
    [ProducesResponseType<Wire.TransitionRequestInfo>(StatusCodes.Status202Accepted)]
    [RequestExample("""{"version": 3, "reason": "champion after the A/B test"}""")]
    [WolverinePut("/api/v1/models/{name}/aliases/{alias}", OperationId = "AssignAlias")]
    [PolicyConfirmedInCommand]
    public static async Task<IResult> Put(string name, string alias, AssignAlias? request, HttpContext http, ModelCommands commands,
        ApprovalPolicy approvals, TimeProvider time)
    {
        if (request is null) return Problems.BodyRequired("{\"version\", \"reason\"?}");
        var errors = new List<(string, string)>();
        if (InputRules.CheckAlias(alias) is { } a) errors.Add(("alias", a));
        else if (InputRules.IsReservedAlias(alias)) errors.Add(("alias", Reserved(alias)));
        if (request.Version is not > 0) errors.Add(("version", "The version to point at is required: a whole number from 1."));
        if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) errors.Add(("reason", r));
        if (errors.Count > 0) return Problems.Validation(errors);

        var requestId = Guid.CreateVersion7();
        // Who is asking, as four eyes judges it: the same authenticated caller every appended event records as its actor.
        var requester = AccessClaims.PrincipalOf(http.User)!;
        return await commands.Execute(http, name, request, request.Reason,
            async (model, session, ct) =>
            {
                var decision = ModelDecisions.AssignAlias(model, alias, request.Version!.Value);
                if (decision.IsRejected || !approvals.ProtectsAlias(alias) || decision.Events.Count == 0) return decision;
                var version = await session.LoadAsync<ModelVersionView>(ModelVersionView.Key(model.Id, request.Version!.Value), ct);
                return ApprovalDecisions.RequestAlias(model, approvals, decision, version!.Artifact.Sha256, requester,
                    request.Reason, requestId, time.GetUtcNow());
            },
            (outcome, _) => ValueTask.FromResult(TransitionRequestResponse.Accepted(outcome, approvals)
                ?? new CommandResponse(StatusCodes.Status200OK,
                    new Wire.AliasInfo(outcome.After.Name, InputRules.NormalizeAlias(alias), request.Version!.Value, outcome.After.Revision))));
    }

    internal static string Reserved(string alias) =>
        $"'{alias}' is reserved: 'latest' and 'v<number>' always resolve to the newest and the numbered version.";
}

public static class RemoveAliasEndpoint
{
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [WolverineDelete("/api/v1/models/{name}/aliases/{alias}", OperationId = "RemoveAlias")]
    public static async Task<IResult> Delete(string name, string alias, HttpContext http, ModelCommands commands)
    {
        if (InputRules.CheckAlias(alias) is { } a) return Problems.Validation([("alias", a)]);
        if (InputRules.IsReservedAlias(alias)) return Problems.Validation([("alias", AssignAliasEndpoint.Reserved(alias))]);
        var reason = http.Request.Query["reason"].ToString();
        if (InputRules.CheckText(reason, InputRules.MaxReasonLength, "A reason") is { } r) return Problems.Validation([("reason", r)]);

        var result = await commands.Execute(http, name, new RemoveAlias(reason), reason,
            (model, _, _) => ValueTask.FromResult(ModelDecisions.RemoveAlias(model, alias)),
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status204NoContent, null)));
        return result;
    }
}
