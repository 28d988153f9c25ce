using EventSourcedRegistry.Contracts.V1.Requests;
using Microsoft.AspNetCore.Mvc;
using EventSourcedRegistry.Api.Workspaces;
using Microsoft.AspNetCore.Authorization;
using System.Collections.Concurrent;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Approvals;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Rollback;

public static class RollBackRegistryEndpoint
{
    public const int MaxParallelModels = 4;

    /// <summary>
    /// Rolls every model (or the named ones) back to a point, one transaction per model, each concurrency-checked; a model
    /// that fails is reported and does not stop the others. A model whose plan would put a version into a protected stage or
    /// move a protected alias fails with the reason (four eyes binds admins too); a dry run marks it. A dry run answers the
    /// plan at once (200, nothing appended); the rollback itself answers 202 with its status resource (<c>Location</c>):
    /// one durable message per model, handled by any node, its progress readable from every node and resumed after a crash.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.RegistryRollbackOutcome>(StatusCodes.Status200OK)]
    [ProducesResponseType<Wire.RegistryRollbackStatus>(StatusCodes.Status202Accepted)]
    [WolverinePost("/api/v1/registry/rollback", OperationId = "RollBackRegistry")]
    public static async Task<IResult> Post(RollBackRegistry? request, HttpContext http, ModelCommands commands, WorkspaceStore store,
        NpgsqlDataSource data, PointResolver points, Lifecycle.Lifecycle lifecycle, ApprovalPolicy approvals)
    {
        if (request is null) return Problems.BodyRequired("{\"asOf\" or \"atSequence\", \"reason\", \"dryRun\"?, \"models\"?}");
        var single = new RollBackModel(request.AsOf, request.AtSequence, request.Reason, request.DryRun);
        var errors = RollBackModelEndpoint.Check(single).ToList();
        foreach (var name in request.Models ?? [])
            if (InputRules.CheckModelName(name) is { } e) errors.Add(("models", e));
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var (point, problem) = await points.Resolve(request.AsOf ?? "",
            request.AtSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", http.Workspace(), ct);
        if (problem is not null) return problem;

        var targets = new List<(string Name, Guid? Id)>();
        await using (var session = store.QuerySession())
        {
            if (request.Models is { Count: > 0 } named)
            {
                foreach (var name in named.Distinct(StringComparer.OrdinalIgnoreCase))
                    targets.Add((name, (await session.FindModel(name, ct))?.Id));
            }
            else
            {
                var all = await session.Query<ModelView>().OrderBy(m => m.NormalizedName).Select(m => new { m.Name, m.Id }).ToListAsync(ct);
                targets.AddRange(all.Select(m => (m.Name, (Guid?)m.Id)));
            }
        }

        var dryRun = request.DryRun ?? false;
        var context = CommandContext.For(http, request.Reason);
        if (!dryRun)
        {
            var job = await RegistryRollbacks.Start(http, store, point!, context, targets, ct);
            var status = await RegistryRollbacks.Status(store, job.Id, ct);
            http.Response.Headers.Location = RegistryRollbacks.Location(job.Id);
            return Results.Json(status, Json.Options, statusCode: StatusCodes.Status202Accepted);
        }
        var outcomes = new ConcurrentDictionary<int, Wire.ModelRollbackOutcome>();
        await Parallel.ForEachAsync(targets.Select((t, i) => (t.Name, t.Id, Index: i)),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelModels, CancellationToken = ct },
            async (target, token) =>
            {
                outcomes[target.Index] = target.Id is { } id
                    ? await RollBack(store, commands, data, lifecycle, approvals, context, id, target.Name, point!, request.Reason!, dryRun, token)
                    : new Wire.ModelRollbackOutcome(target.Name, "failed", [], null, Problems.NoSuchModel(target.Name));
            });

        var ordered = Enumerable.Range(0, targets.Count).Select(i => outcomes[i]).ToList();
        return Results.Json(new Wire.RegistryRollbackOutcome(point!.Sequence, point.Instant, dryRun,
            ordered.Count(o => o.Outcome == "rolledBack"), ordered.Count(o => o.Outcome is "unchanged" or "planned"),
            ordered.Count(o => o.Outcome == "failed"), ordered), Json.Options);
    }

    /// <summary>The dry run's or one message's rollback of one model; a fault is reported as the model's failure.</summary>
    public static async Task<Wire.ModelRollbackOutcome> RollBack(WorkspaceStore store, ModelCommands commands, NpgsqlDataSource data, Lifecycle.Lifecycle lifecycle,
        ApprovalPolicy approvals, CommandContext context, Guid modelId, string name, PointInTime point, string reason, bool dryRun, CancellationToken ct)
    {
        IReadOnlyList<RollbackChange> plan = [];
        try
        {
            var ran = await commands.Run(store, modelId, name, expected: null, context, idempotency: null,
                async (model, session, token) =>
                {
                    var (changes, decision) = await RollBackModelEndpoint.Plan(model, session, data, point, lifecycle, approvals, reason, token);
                    plan = changes;
                    return dryRun && (!decision.IsRejected || decision.Rejection is { Title: ApprovalDecisions.ApprovalRequired })
                        ? Decision.Unchanged
                        : decision;
                },
                (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK, null)),
                beforeSave: null, ct);
            var approvalRequired = plan.Any(c => c.RequiresApproval);
            if (ran.Refused is { } refused) return new Wire.ModelRollbackOutcome(name, "failed", RollBackModelEndpoint.ToWire(plan), null, refused.Detail, approvalRequired);
            var outcome = ran.Changed ? "rolledBack" : dryRun && plan.Count > 0 ? "planned" : "unchanged";
            return new Wire.ModelRollbackOutcome(name, outcome, RollBackModelEndpoint.ToWire(plan), ran.Revision, null, approvalRequired);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new Wire.ModelRollbackOutcome(name, "failed", RollBackModelEndpoint.ToWire(plan), null, "The rollback of this model failed: " + ex.Message);
        }
    }
}

public static class GetRegistryRollbackEndpoint
{
    /// <summary>
    /// A registry-wide rollback's progress, from any node: running while a model is pending, then completed; per model its
    /// outcome (rolledBack, unchanged, failed with the reason, pending). 404 for an id this workspace does not have.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [ProducesResponseType<Wire.RegistryRollbackStatus>(StatusCodes.Status200OK)]
    [ProducesProblems(StatusCodes.Status404NotFound)]
    [WolverineGet("/api/v1/registry/rollbacks/{id}", OperationId = "GetRegistryRollback")]
    public static async Task<IResult> Get(string id, HttpContext http, WorkspaceStore store)
    {
        // Any other text is an id no rollback has: the same 404 as an unknown one.
        if (!Guid.TryParse(id, out var job) || await RegistryRollbacks.Status(store, job, http.RequestAborted) is not { } status)
            return Problems.Problem(StatusCodes.Status404NotFound, "Rollback not found", "This workspace has no registry rollback with that id.");
        return Results.Json(status, Json.Options);
    }
}
