using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Settings;
using EventSourcedRegistry.Api.Workspaces;
using EventSourcedRegistry.Settings;
using EventSourcedRegistry.Store;
using Marten;
using Npgsql;
using Wolverine;
using Wolverine.Marten;

namespace EventSourcedRegistry.Api.Rollback;

/// <summary>A registry-wide rollback as requested: the point, the reason, who asked, and the models in the order answered.</summary>
public sealed class RegistryRollbackJob
{
    public Guid Id { get; set; }
    public long AsOfSequence { get; set; }
    public DateTimeOffset? AsOf { get; set; }
    public string Reason { get; set; } = "";
    public string Actor { get; set; } = "";
    public string CorrelationId { get; set; } = "";
    public string CausationId { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public int Models { get; set; }
}

/// <summary>
/// One model of a registry-wide rollback: pending until its message is handled, then its outcome. A document per model (not
/// a list in the job) so the models' handlers, on any node, never write the same row.
/// </summary>
public sealed class RegistryRollbackModel
{
    /// <summary><c>{job}/{index}</c>.</summary>
    public string Id { get; set; } = "";
    public Guid Job { get; set; }
    public int Index { get; set; }
    public string Name { get; set; } = "";
    public Guid? ModelId { get; set; }
    public string Outcome { get; set; } = Pending;
    public List<Wire.RollbackChange> Plan { get; set; } = [];
    public long? Revision { get; set; }
    public string? Error { get; set; }
    public bool ApprovalRequired { get; set; }

    public const string Pending = "pending";

    public static string IdOf(Guid job, int index) => $"{job:N}/{index}";

    public Wire.ModelRollbackOutcome ToWire() => new(Name, Outcome, Plan, Revision, Error, ApprovalRequired);
}

/// <summary>The message that rolls one model of a registry-wide rollback back; handled once by some node, again after a crash.</summary>
public sealed record RollBackRegistryModel(string Workspace, Guid Job, int Index);

public static class RegistryRollbacks
{
    /// <summary>
    /// Stores the job and a pending row per model and sends one durable message per model, in one transaction when Wolverine's
    /// store is on (Marten's outbox): a crash before the commit leaves nothing, after it every model is handled.
    /// </summary>
    public static async Task<RegistryRollbackJob> Start(HttpContext http, WorkspaceStore store, PointInTime point, CommandContext context,
        IReadOnlyList<(string Name, Guid? Id)> targets, CancellationToken ct)
    {
        var job = new RegistryRollbackJob
        {
            Id = Guid.NewGuid(), AsOfSequence = point.Sequence, AsOf = point.Instant, Reason = context.Reason ?? "", Actor = context.Actor,
            CorrelationId = context.CorrelationId, CausationId = context.CausationId, RequestedAt = DateTimeOffset.UtcNow, Models = targets.Count,
        };
        var messages = targets.Select((_, i) => new RollBackRegistryModel(store.Workspace.Slug, job.Id, i)).ToList();
        await using var session = store.LightweightSession();
        session.Store(job);
        for (var i = 0; i < targets.Count; i++)
            session.Store(new RegistryRollbackModel { Id = RegistryRollbackModel.IdOf(job.Id, i), Job = job.Id, Index = i, Name = targets[i].Name, ModelId = targets[i].Id });
        if (http.RequestServices.GetService<IMartenOutbox>() is { } outbox)
        {
            outbox.Enroll(session);
            foreach (var message in messages) await outbox.PublishAsync(message);
            await session.SaveChangesAsync(ct);
        }
        else
        {
            // Registry:Messaging:Durable off: the messages live in this node's memory only (see MessagingOptions.Durable).
            await session.SaveChangesAsync(ct);
            var bus = http.RequestServices.GetRequiredService<IMessageBus>();
            foreach (var message in messages) await bus.PublishAsync(message);
        }
        return job;
    }

    /// <summary>The status resource, or null when the workspace has no such rollback.</summary>
    public static async Task<Wire.RegistryRollbackStatus?> Status(WorkspaceStore store, Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        if (await session.LoadAsync<RegistryRollbackJob>(id, ct) is not { } job) return null;
        var models = (await session.Query<RegistryRollbackModel>().Where(m => m.Job == id).ToListAsync(ct)).OrderBy(m => m.Index).Select(m => m.ToWire()).ToList();
        int Count(string outcome) => models.Count(m => m.Outcome == outcome);
        var pending = Count(RegistryRollbackModel.Pending);
        return new Wire.RegistryRollbackStatus(job.Id, pending > 0 ? "running" : "completed", job.AsOfSequence, job.AsOf, job.Reason, job.Actor,
            job.RequestedAt, pending, Count("rolledBack"), Count("unchanged"), Count("failed"), models);
    }

    public static string Location(Guid id) => $"/api/v1/registry/rollbacks/{id}";
}

/// <summary>
/// Rolls one model of a registry-wide rollback back, as the synchronous rollback did for each model: its own transaction,
/// concurrency-checked, gated by four eyes, under the requester's name and correlation. A row already decided is left
/// alone (the message came again after a crash); a model rolled back whose row was not yet written is found at its target
/// and reported unchanged.
/// </summary>
public static class RollBackRegistryModelHandler
{
    public static async Task Handle(RollBackRegistryModel message, IDocumentStore documents, ModelCommands commands, NpgsqlDataSource data,
        WorkspacePolicies policies, ILogger<RegistryRollbackJob> logger, CancellationToken ct)
    {
        var store = new WorkspaceStore(documents, WorkspaceId.Parse(message.Workspace));
        RegistryRollbackJob? job;
        RegistryRollbackModel? row;
        await using (var query = store.QuerySession())
        {
            job = await query.LoadAsync<RegistryRollbackJob>(message.Job, ct);
            row = await query.LoadAsync<RegistryRollbackModel>(RegistryRollbackModel.IdOf(message.Job, message.Index), ct);
        }
        // Gone (the workspace's data was removed) or already decided: nothing to do.
        if (job is null || row is null || row.Outcome != RegistryRollbackModel.Pending) return;

        Wire.ModelRollbackOutcome outcome;
        if (row.ModelId is not { } id)
            outcome = new Wire.ModelRollbackOutcome(row.Name, "failed", [], null, Problems.NoSuchModel(row.Name));
        else
        {
            EffectivePolicy? policy = null;
            string? unusable = null;
            try
            {
                policy = await policies.ForAsync(store.Workspace, ct);
            }
            catch (InvalidWorkspacePolicyException ex)
            {
                unusable = ex.Message;
            }
            var context = new CommandContext(job.Actor, job.CorrelationId, job.CausationId, job.Reason);
            outcome = policy is null
                ? new Wire.ModelRollbackOutcome(row.Name, "failed", [], null, unusable)
                : await RollBackRegistryEndpoint.RollBack(store, commands, data, policy.Lifecycle, policy.Approvals, context, id, row.Name,
                    new PointInTime(job.AsOfSequence, job.AsOf), job.Reason, dryRun: false, ct);
        }

        row.Outcome = outcome.Outcome;
        row.Plan = outcome.Plan.ToList();
        row.Revision = outcome.Revision;
        row.Error = outcome.Error;
        row.ApprovalRequired = outcome.ApprovalRequired;
        await using var session = store.LightweightSession();
        session.Store(row);
        await session.SaveChangesAsync(ct);
        logger.LogInformation("Registry rollback {Job}: model {Model} {Outcome}", job.Id, row.Name, row.Outcome);
    }
}
