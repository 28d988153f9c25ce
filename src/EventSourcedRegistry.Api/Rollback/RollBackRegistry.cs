using Microsoft.AspNetCore.Authorization;
using System.Collections.Concurrent;
using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Api.TimeTravel;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Validation;
using Marten;
using Npgsql;
using Wolverine.Http;

namespace EventSourcedRegistry.Api.Rollback;

public sealed record RollBackRegistry(string? AsOf, long? AtSequence, string? Reason, bool? DryRun, List<string>? Models);

public sealed record ModelRollbackOutcome(string Model, string Outcome, IReadOnlyList<RollbackChange> Plan, long? Revision, string? Error);

public sealed record RegistryRollbackOutcome(long AsOfSequence, DateTimeOffset? AsOf, bool DryRun, int RolledBack, int Unchanged,
    int Failed, IReadOnlyList<ModelRollbackOutcome> Models);

public static class RollBackRegistryEndpoint
{
    public const int MaxParallelModels = 4;

    /// <summary>
    /// Rolls every model (or the named ones) back to a point, one transaction per model, each concurrency-checked;
    /// a model that fails is reported and does not stop the others.
    /// </summary>
    [Authorize(Policy = Policies.Admin)]
    [WolverinePost("/api/v1/registry/rollback", OperationId = "RollBackRegistry")]
    public static async Task<IResult> Post(RollBackRegistry? request, HttpContext http, ModelCommands commands, IDocumentStore store,
        NpgsqlDataSource data, PointResolver points, Lifecycle.Lifecycle lifecycle)
    {
        if (request is null) return Problems.BodyRequired("{\"asOf\" or \"atSequence\", \"reason\", \"dryRun\"?, \"models\"?}");
        var single = new RollBackModel(request.AsOf, request.AtSequence, request.Reason, request.DryRun);
        var errors = RollBackModelEndpoint.Check(single).ToList();
        foreach (var name in request.Models ?? [])
            if (InputRules.CheckModelName(name) is { } e) errors.Add(("models", e));
        if (errors.Count > 0) return Problems.Validation(errors);

        var ct = http.RequestAborted;
        var (point, problem) = await points.Resolve(request.AsOf ?? "",
            request.AtSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", ct);
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
        var outcomes = new ConcurrentDictionary<int, ModelRollbackOutcome>();
        await Parallel.ForEachAsync(targets.Select((t, i) => (t.Name, t.Id, Index: i)),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelModels, CancellationToken = ct },
            async (target, token) =>
            {
                outcomes[target.Index] = target.Id is { } id
                    ? await RollBack(commands, data, lifecycle, context, id, target.Name, point!, request.Reason!, dryRun, token)
                    : new ModelRollbackOutcome(target.Name, "failed", [], null, Problems.NoSuchModel(target.Name));
            });

        var ordered = Enumerable.Range(0, targets.Count).Select(i => outcomes[i]).ToList();
        return Results.Json(new RegistryRollbackOutcome(point!.Sequence, point.Instant, dryRun,
            ordered.Count(o => o.Outcome == "rolledBack"), ordered.Count(o => o.Outcome is "unchanged" or "planned"),
            ordered.Count(o => o.Outcome == "failed"), ordered), Json.Options);
    }

    private static async Task<ModelRollbackOutcome> RollBack(ModelCommands commands, NpgsqlDataSource data, Lifecycle.Lifecycle lifecycle, CommandContext context,
        Guid modelId, string name, PointInTime point, string reason, bool dryRun, CancellationToken ct)
    {
        IReadOnlyList<RollbackChange> plan = [];
        try
        {
            var ran = await commands.Run(modelId, name, expected: null, context, idempotency: null,
                async (model, session, token) =>
                {
                    var then = await StorePosition.ModelAtAsync(session, data, model.Id, point.Sequence, token);
                    var (changes, decision) = RollbackPlanner.Plan(model, then, lifecycle, point.Sequence, point.Instant, reason);
                    plan = changes;
                    return dryRun && !decision.IsRejected ? Decision.Unchanged : decision;
                },
                (outcome, _) => ValueTask.FromResult(new CommandResponse(StatusCodes.Status200OK, null)),
                beforeSave: null, ct);
            if (ran.Refused is { } refused) return new ModelRollbackOutcome(name, "failed", plan, null, refused.Detail);
            var outcome = ran.Changed ? "rolledBack" : dryRun && plan.Count > 0 ? "planned" : "unchanged";
            return new ModelRollbackOutcome(name, outcome, plan, ran.Revision, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new ModelRollbackOutcome(name, "failed", plan, null, "The rollback of this model failed: " + ex.Message);
        }
    }
}
