using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Rollback;

public static class RollBackModelEndpoint
{
    public static IEnumerable<(string Field, string Error)> Check(RollBackModel request)
    {
        if (string.IsNullOrWhiteSpace(request.Reason)) yield return ("reason", "A rollback needs a reason; it is recorded in the history.");
        else if (InputRules.CheckText(request.Reason, InputRules.MaxReasonLength, "A reason") is { } r) yield return ("reason", r);
        if (string.IsNullOrEmpty(request.AsOf) == request.AtSequence is null)
            yield return ("asOf", "Give the point to roll back to: asOf (an RFC 3339 instant) or atSequence, not both.");
        if (request.AtSequence is < 0) yield return ("atSequence", "atSequence is a global event sequence number from 0.");
    }

    /// <summary>
    /// Rolls the model's stages and aliases back to a point: RollbackPerformed plus the compensating changes in one
    /// transaction, or with <c>dryRun</c> only the plan. A plan that would put a version into a protected stage or move
    /// a protected alias is refused (409, pointing at the approval flow); its dry run marks those changes.
    /// </summary>
    [Authorize(Policy = Policies.Contribute)]
    [ProducesResponseType<Wire.RollbackOutcome>(StatusCodes.Status200OK)]
    [WolverinePost("/api/v1/models/{name}/rollback", OperationId = "RollBackModel")]
    public static async Task<IResult> Post(string name, RollBackModel? request, HttpContext http, ModelCommands commands,
        NpgsqlDataSource data, PointResolver points, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals)
    {
        if (request is null) return Problems.BodyRequired("{\"asOf\" or \"atSequence\", \"reason\", \"dryRun\"?}");
        var errors = Check(request).ToList();
        if (errors.Count > 0) return Problems.Validation(errors);
        var (point, problem) = await points.Resolve(request.AsOf ?? "",
            request.AtSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", http.Workspace(), http.RequestAborted);
        if (problem is not null) return problem;

        return await Run(http, name, request, point!, commands, data, lifecycle, approvals);
    }

    /// <summary>The rollback of one model to a resolved point; shared with the registry-wide rollback.</summary>
    public static async Task<IResult> Run(HttpContext http, string name, RollBackModel request, PointInTime point,
        ModelCommands commands, NpgsqlDataSource data, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals)
    {
        var dryRun = request.DryRun ?? false;
        IReadOnlyList<RollbackChange> plan = [];
        return await commands.Execute(http, name, request, request.Reason,
            async (model, session, ct) =>
            {
                var (changes, decision) = await Plan(model, session, data, point, lifecycle, approvals, request.Reason!, ct);
                plan = changes;
                // A dry run plans exactly as the real one would (its refusals too, but for approval: it shows the
                // changes needing it), then appends nothing.
                return dryRun && (!decision.IsRejected || decision.Rejection is { Title: ApprovalDecisions.ApprovalRequired })
                    ? Decision.Unchanged
                    : decision;
            },
            (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK,
                // approvalRequired: the plan moves a version into a protected stage or moves a protected alias, so applying it is refused.
                new Wire.RollbackOutcome(outcome.After.Name, point.Sequence, point.Instant, dryRun, outcome.Changed, ToWire(plan), outcome.After.Revision,
                    plan.Any(c => c.RequiresApproval)))));
    }

    /// <summary>A plan as the shared contract shows it; shared with the registry-wide rollback.</summary>
    public static IReadOnlyList<Wire.RollbackChange> ToWire(IReadOnlyList<RollbackChange> plan) =>
        plan.Select(c => new Wire.RollbackChange(c.Kind, c.Subject, c.Version, c.From, c.To, c.RequiresApproval)).ToList();

    /// <summary>The plan for one model, gated by four eyes; shared with the registry-wide rollback.</summary>
    public static async Task<(IReadOnlyList<RollbackChange> Plan, Decision Decision)> Plan(ModelView model, Marten.IQuerySession session,
        NpgsqlDataSource data, PointInTime point, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals, string reason, CancellationToken ct)
    {
        // The model's own past (by id, whatever name it had), from the nearest snapshot.
        var then = await StorePosition.ModelAtAsync(session, data, model.Id, point.Sequence, ct);
        var (changes, decision) = RollbackPlanner.Plan(model, then, lifecycle, point.Sequence, point.Instant, reason);
        return ApprovalDecisions.GateRollback(model, approvals, changes, decision);
    }
}
