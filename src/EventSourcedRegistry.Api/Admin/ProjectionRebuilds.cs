using EventSourcedRegistry.Api.Messaging;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Rebuild;
using EventSourcedRegistry.Store;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Marten.Schema;
using Marten.Schema.Indexing.Unique;
using Npgsql;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Marten;
using Wolverine.Runtime;
using Wolverine.Runtime.Handlers;

namespace EventSourcedRegistry.Api.Admin;

/// <summary>
/// A rebuild as the API shows it. <c>running</c> from the request until it ends (queued, under way, or waiting to run again
/// on another node: <see cref="Attempts"/> and <see cref="Node"/> tell which), then <c>succeeded</c>, <c>failed</c> or
/// <c>interrupted</c> (its node stopped and nothing can run it again: messaging is not durable).
/// </summary>
public sealed record RebuildStatus(
    Guid Id,
    string Workspace,
    IReadOnlyList<string> Projections,
    string State,
    long EventsProcessed,
    long EventsTotal,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<RebuildReport> Reports,
    string? Error,
    int Attempts,
    Guid? Node,
    DateTimeOffset UpdatedAt);

/// <summary>
/// A projection rebuild as requested and as far as it got, one document in the requesting workspace. Written by the request,
/// then by the node that runs it (progress each second), read by any node. Optimistic concurrency (<see cref="Version"/>):
/// a node that finds it was changed under it (another node took it over, or it was reported interrupted) stops.
/// </summary>
public sealed class ProjectionRebuildJob
{
    public Guid Id { get; set; }
    public string Workspace { get; set; } = "";
    public List<string> Projections { get; set; } = [];
    public string State { get; set; } = Running;
    public long EventsProcessed { get; set; }
    public long EventsTotal { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>The last write of the node running it (its heartbeat), or the request's time before a node took it.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
    public List<RebuildReport> Reports { get; set; } = [];
    public string? Error { get; set; }
    /// <summary>How many times a node started it: more than one means it was resumed after its node stopped.</summary>
    public int Attempts { get; set; }
    /// <summary>Wolverine's id of the node running it; null before a node took it and after its node let it go.</summary>
    public Guid? Node { get; set; }
    /// <summary>
    /// <see cref="ActiveMark"/> while the rebuild has not ended, else null: a unique index across every workspace holds one
    /// such row, so two requests on two nodes cannot both start one (the second's insert fails).
    /// </summary>
    public string? Active { get; set; } = ActiveMark;

    [Version]
    public Guid Version { get; set; }

    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";
    public const string ActiveMark = "active";
    public const string ActiveIndex = "ux_projectionrebuildjob_active";

    public void End(string state, string? error = null)
    {
        State = state;
        Error = error;
        Active = null;
        FinishedAt = UpdatedAt = DateTimeOffset.UtcNow;
    }

    public RebuildStatus ToStatus() => new(Id, Workspace, Projections, State, EventsProcessed, EventsTotal, RequestedAt, FinishedAt, Reports, Error,
        Attempts, Node, UpdatedAt);
}

/// <summary>The message that runs a rebuild: handled by one node, again by another (from the start) if that one dies.</summary>
public sealed record RunProjectionRebuild(string Workspace, Guid Job);

/// <summary>
/// Projection rebuilds as durable background work (issue 16): the request stores a <see cref="ProjectionRebuildJob"/> and
/// sends <see cref="RunProjectionRebuild"/> in one transaction (Marten's outbox); whichever node handles the message runs the
/// rebuild and writes its progress into the job, so every node shows it. The inline views and the audit log are rebuilt by
/// <see cref="InlineViewRebuilder"/> in one pass (the API keeps serving); the hash chain is only ever extended; any other
/// async projection is rebuilt by Marten's daemon. A rebuild is one workspace's: it reads and writes that workspace's rows
/// only. One at a time in the whole registry: a rebuild is heavy, and the nodes share one database.
/// </summary>
public sealed class ProjectionRebuilds(IDocumentStore store, NpgsqlDataSource data, IServiceProvider services,
    TimeTravelSettings timeTravel, MessagingOptions messaging, ILogger<ProjectionRebuilds> logger)
{
    /// <summary>
    /// A rebuild started this often (each start is an attempt; its node stopped or died during each) is not started again:
    /// it fails. A node that is stopping starts none, so a stop counts only the attempt it interrupted.
    /// </summary>
    public const int MaxAttempts = 5;

    /// <summary>How long a rebuild's message a stopping node let go waits in Wolverine's inbox before a node may take it.</summary>
    public static readonly TimeSpan LetGoDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long one run may take before Wolverine cancels it (Wolverine's default, 60 s, is for short messages).</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromHours(12);

    /// <summary>Between runs of a rebuild whose job could not be read or written; the last delay repeats.</summary>
    public static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(60)];

    /// <summary>The async projections Marten runs, by name.</summary>
    public IReadOnlyList<string> AsyncProjections =>
        store.Options.Events.Projections()
            .Where(p => p.Lifecycle == JasperFx.Events.Projections.ProjectionLifecycle.Async)
            .Select(p => p.Name).ToList();

    public IReadOnlyList<string> Known => InlineViewRebuilder.Views.Concat(AsyncProjections).Distinct().ToList();

    /// <summary>How often the running node writes its progress (and with it, its heartbeat).</summary>
    private TimeSpan ProgressInterval => messaging.HeartbeatInterval < TimeSpan.FromSeconds(1) ? messaging.HeartbeatInterval : TimeSpan.FromSeconds(1);

    /// <summary>
    /// Stores the job and sends its message in one transaction, or says why not (another rebuild has not ended). The refusal
    /// names the other rebuild only when it is this workspace's.
    /// </summary>
    public async Task<(RebuildStatus? Started, string? Refusal)> StartAsync(WorkspaceId workspace, IReadOnlyList<string> projections,
        IServiceProvider requestServices, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var now = DateTimeOffset.UtcNow;
            var job = new ProjectionRebuildJob { Id = Guid.NewGuid(), Workspace = workspace.Slug, Projections = projections.ToList(), RequestedAt = now, UpdatedAt = now };
            var message = new RunProjectionRebuild(workspace.Slug, job.Id);
            try
            {
                await using var session = store.LightweightSession(workspace.TenantId);
                session.Insert(job);
                if (requestServices.GetService<IMartenOutbox>() is { } outbox)
                {
                    outbox.Enroll(session);
                    await outbox.PublishAsync(message);
                    await session.SaveChangesAsync(ct);
                }
                else
                {
                    // Registry:Messaging:Durable off: the message lives in this node's memory only (see MessagingOptions.Durable).
                    await session.SaveChangesAsync(ct);
                    await requestServices.GetRequiredService<IMessageBus>().PublishAsync(message);
                }
                return (job.ToStatus(), null);
            }
            catch (Exception ex) when (IsActiveIndexViolation(ex))
            {
                // Without durable messaging a rebuild whose node is gone never ends by itself: reported interrupted, and this
                // request tried once more. (Durable, the message is another node's to run.)
                if (attempt == 0 && await ReportInterruptedAnywhere(ct)) continue;
                var mine = await LatestAsync(workspace, ct);
                return (null, mine is { State: ProjectionRebuildJob.Running }
                    ? $"Rebuild {mine.Id} has not ended yet; one rebuild runs at a time."
                    : "Another rebuild in this registry has not ended yet; one rebuild runs at a time.");
            }
        }
    }

    private static bool IsActiveIndexViolation(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: ProjectionRebuildJob.ActiveIndex }) return true;
        return false;
    }

    /// <summary>The workspace's latest rebuild, or null when it never asked for one.</summary>
    public async Task<RebuildStatus?> LatestAsync(WorkspaceId workspace, CancellationToken ct)
    {
        await using var session = store.QuerySession(workspace.TenantId);
        var job = await session.Query<ProjectionRebuildJob>().OrderByDescending(j => j.RequestedAt).FirstOrDefaultAsync(ct);
        return job is null ? null : (await Checked(workspace, job, ct)).ToStatus();
    }

    /// <summary>One of the workspace's rebuilds, or null when the workspace has none with that id.</summary>
    public async Task<RebuildStatus?> FindAsync(WorkspaceId workspace, Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession(workspace.TenantId);
        var job = await session.LoadAsync<ProjectionRebuildJob>(id, ct);
        return job is null ? null : (await Checked(workspace, job, ct)).ToStatus();
    }

    /// <summary>
    /// Without durable messaging, a rebuild whose node wrote nothing for <see cref="MessagingOptions.StaleNodeAfter"/> is gone
    /// with its node (its message was in that node's memory): reported interrupted instead of running forever. With durable
    /// messaging it stays running: the message is stored, and another node (or the same one restarted) runs it again.
    /// </summary>
    private bool Abandoned(ProjectionRebuildJob job) =>
        !messaging.Durable && job.State == ProjectionRebuildJob.Running && DateTimeOffset.UtcNow - job.UpdatedAt > messaging.StaleNodeAfter;

    private async Task<ProjectionRebuildJob> Checked(WorkspaceId workspace, ProjectionRebuildJob job, CancellationToken ct)
    {
        if (!Abandoned(job)) return job;
        await ReportInterrupted(workspace, job, ct);
        await using var session = store.QuerySession(workspace.TenantId);
        return await session.LoadAsync<ProjectionRebuildJob>(job.Id, ct) ?? job;
    }

    private async Task ReportInterrupted(WorkspaceId workspace, ProjectionRebuildJob job, CancellationToken ct)
    {
        job.End(ProjectionRebuildJob.Interrupted,
            $"Its node stopped after {job.Attempts} attempt(s) and messaging is not durable (Registry:Messaging:Durable), so no node runs it again; start a new rebuild.");
        try
        {
            await using var session = store.LightweightSession(workspace.TenantId);
            session.Update(job);
            await session.SaveChangesAsync(ct);
            logger.LogWarning("Projection rebuild {Id} of {Workspace} was interrupted: its node wrote nothing for {Stale}", job.Id, job.Workspace, messaging.StaleNodeAfter);
        }
        catch (ConcurrencyException)
        {
            // Its node wrote meanwhile (it is alive after all) or another reader reported it first: the stored row stands.
        }
    }

    /// <summary>The rebuild that has not ended, whichever workspace's, when it is abandoned: reported interrupted.</summary>
    private async Task<bool> ReportInterruptedAnywhere(CancellationToken ct)
    {
        if (messaging.Durable) return false;
        ProjectionRebuildJob? active;
        await using (var session = store.QuerySession(WorkspaceId.Platform.TenantId))
            active = await session.Query<ProjectionRebuildJob>().Where(j => j.AnyTenant() && j.Active == ProjectionRebuildJob.ActiveMark).FirstOrDefaultAsync(ct);
        if (active is null || !Abandoned(active) || WorkspaceId.FromTenantId(active.Workspace) is not { } workspace) return false;
        await ReportInterrupted(workspace, active, ct);
        return true;
    }

    /// <summary>Runs a rebuild to the end and waits for it (the host's command line): the same job and message as the API's.</summary>
    public async Task<RebuildStatus> RunAsync(WorkspaceId workspace, IReadOnlyList<string> projections, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var (started, refusal) = await StartAsync(workspace, projections, scope.ServiceProvider, ct);
        if (started is null) throw new InvalidOperationException(refusal);
        while (true)
        {
            var status = await FindAsync(workspace, started.Id, ct);
            if (status is null) throw new InvalidOperationException($"Rebuild {started.Id} is gone.");
            if (status.State != ProjectionRebuildJob.Running) return status;
            await Task.Delay(100, ct);
        }
    }

    /// <summary>
    /// The node begins to stop: the host's first signal. Not the token Wolverine gives its handlers: Wolverine 6 cancels that
    /// one only at the end of its own stop, after it has waited for its handlers to finish (<c>DurabilitySettings.DrainTimeout</c>,
    /// 30 s), and has no setting that cancels them sooner.
    /// </summary>
    private CancellationToken ApplicationStopping => services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;

    /// <summary>The node is stopping: the host said so, or Wolverine has stopped (and cancelled its handlers).</summary>
    private bool NodeIsStopping =>
        ApplicationStopping.IsCancellationRequested || services.GetService<IWolverineRuntime>()?.Cancellation.IsCancellationRequested == true;

    /// <summary>
    /// Runs the rebuild a message names, from the start (a rebuild recomputes from the events, so a second run is safe),
    /// writing progress each second. A job already ended (the message came again) is left alone. When the node stops,
    /// durable, the job is let go and <see cref="NodeStoppingException"/> hands the message back to Wolverine for the next
    /// node (or this one restarted); not durable, the job is reported interrupted. A node that is stopping starts no attempt.
    /// </summary>
    public async Task RunAsync(RunProjectionRebuild message, Guid node, CancellationToken ct)
    {
        // The message can come back to a node that is stopping (Wolverine runs its queues until its own stop): the job is not
        // touched, and no attempt counted, here.
        if (NodeIsStopping && messaging.Durable) throw new NodeStoppingException();

        // Wolverine delivers a message at least once, and can hand one node the same message twice at once: a scheduled
        // message its poller takes before the node has its number (Registry:Messaging polls at once on start) is then
        // released as a departed node's and recovered again. The second delivery waits for the first and ends as it did,
        // rather than start (and count) a second attempt beside it. Across nodes the job's version decides (see TryWrite).
        var mine = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = runs.GetOrAdd(message.Job, mine.Task);
        if (running != mine.Task)
        {
            logger.LogInformation("Projection rebuild {Id}: its message came again while it runs on this node; it waits for that run", message.Job);
            if (await running is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            return;
        }
        try
        {
            await RunOnceAsync(message, node, ct);
            mine.SetResult(null);
        }
        catch (Exception ex)
        {
            mine.SetResult(ex);
            throw;
        }
        finally
        {
            runs.TryRemove(new KeyValuePair<Guid, Task<Exception?>>(message.Job, mine.Task));
        }
    }

    /// <summary>The rebuilds this node runs, by job, each to the failure it ended with (null when none): one run per job at a time.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, Task<Exception?>> runs = new();

    private async Task RunOnceAsync(RunProjectionRebuild message, Guid node, CancellationToken ct)
    {
        var workspace = WorkspaceId.Parse(message.Workspace);
        ProjectionRebuildJob? job;
        await using (var query = store.QuerySession(workspace.TenantId))
            job = await query.LoadAsync<ProjectionRebuildJob>(message.Job, ct);
        if (job is null || job.State != ProjectionRebuildJob.Running) return;
        if (NodeIsStopping)
        {
            if (messaging.Durable) throw new NodeStoppingException();
            // Not durable: the message goes with this node, so the job ends here rather than waiting to be found abandoned.
            job.End(ProjectionRebuildJob.Interrupted, NotDurableInterruption);
            await TryWrite(workspace, job, CancellationToken.None);
            return;
        }

        if (job.Attempts >= MaxAttempts)
            job.End(ProjectionRebuildJob.Failed, $"Each of its {job.Attempts} attempts was cut short (its node stopped, or its progress or end could not be written); not started again.");
        else
        {
            job.Attempts++;
            job.Node = node;
            job.EventsProcessed = job.EventsTotal = 0;
            job.Reports = [];
            job.Error = null;
            job.UpdatedAt = DateTimeOffset.UtcNow;
        }
        if (!await TryWrite(workspace, job, ct) || job.State != ProjectionRebuildJob.Running) return;
        if (job.Attempts > 1) logger.LogWarning("Projection rebuild {Id} of {Workspace}: attempt {Attempt}, from the start", job.Id, job.Workspace, job.Attempts);

        long processed = 0;
        // The node stopping: at once, not when Wolverine cancels its handlers (see ApplicationStopping).
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct, ApplicationStopping);
        using var taken = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        var heartbeat = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(ProgressInterval);
            while (await timer.WaitForNextTickAsync(taken.Token).ConfigureAwait(false))
            {
                job.EventsProcessed = Interlocked.Read(ref processed);
                job.UpdatedAt = DateTimeOffset.UtcNow;
                bool written;
                try
                {
                    // Not cancelled half-way: the job's version must stay the one stored, for the last write.
                    written = await TryWrite(workspace, job, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    // The database did not answer this time; the rebuild goes on, and the next tick writes again.
                    logger.LogWarning(ex, "Projection rebuild {Id}: its progress could not be written", job.Id);
                    continue;
                }
                if (!written) await taken.CancelAsync();
            }
        }, CancellationToken.None);

        string state;
        string? error = null;
        var reports = new List<RebuildReport>();
        try
        {
            reports.AddRange(await Rebuild(workspace, job.Projections, total => job.EventsTotal = total,
                new Progress<long>(n => Interlocked.Exchange(ref processed, n)), taken.Token));
            state = ProjectionRebuildJob.Succeeded;
        }
        catch (Exception) when (taken.IsCancellationRequested)
        {
            state = ProjectionRebuildJob.Interrupted;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Projection rebuild {Id} failed", job.Id);
            state = ProjectionRebuildJob.Failed;
            error = ex.Message;
        }
        finally
        {
            // The audit worker remembers the audit's progress; whatever a rebuild did to the audit's rows, it reads them again.
            services.GetService<Audit.AuditWorker>()?.Reload();
        }
        await taken.CancelAsync();
        try { await heartbeat; }
        catch (OperationCanceledException) { }

        if (state == ProjectionRebuildJob.Interrupted)
        {
            if (!stopping.IsCancellationRequested)
            {
                // A write found the job changed: another node runs it now, or a reader reported it interrupted.
                logger.LogWarning("Projection rebuild {Id} was taken from this node; it stops here", job.Id);
                return;
            }
            if (!NodeIsStopping)
            {
                // Wolverine cancelled it, its node not stopping: it ran longer than RunTimeout. Run again, it would again.
                job.End(ProjectionRebuildJob.Failed, $"It ran longer than {RunTimeout.TotalHours:0} hours and was cancelled; not started again.");
                await TryWrite(workspace, job, CancellationToken.None);
                return;
            }
            if (messaging.Durable)
            {
                // The node stops: the job let go, and its message back in Wolverine's inbox for the next node (see RunProjectionRebuildHandler).
                job.Node = null;
                job.UpdatedAt = DateTimeOffset.UtcNow;
                await TryWrite(workspace, job, CancellationToken.None);
                throw new NodeStoppingException();
            }
            job.End(ProjectionRebuildJob.Interrupted, NotDurableInterruption);
            await TryWrite(workspace, job, CancellationToken.None);
            return;
        }
        job.Reports = reports;
        if (state == ProjectionRebuildJob.Succeeded) job.EventsProcessed = job.EventsTotal;
        job.End(state, error);
        await TryWrite(workspace, job, CancellationToken.None);
    }

    private const string NotDurableInterruption =
        "Its node stopped and messaging is not durable (Registry:Messaging:Durable), so no node runs it again; start a new rebuild.";

    /// <summary>Writes the job if nobody changed it since this node last did (an update, never an insert); false when somebody did or it is gone.</summary>
    private async Task<bool> TryWrite(WorkspaceId workspace, ProjectionRebuildJob job, CancellationToken ct)
    {
        try
        {
            await using var session = store.LightweightSession(workspace.TenantId);
            session.Update(job);
            await session.SaveChangesAsync(ct);
            return true;
        }
        catch (Exception ex) when (ex is ConcurrencyException || ex.InnerException is ConcurrencyException)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<RebuildReport>> Rebuild(WorkspaceId workspace, IReadOnlyList<string> projections, Action<long> total,
        IProgress<long> progress, CancellationToken ct)
    {
        long events;
        await using (var count = data.CreateCommand($"select count(*) from {RegistryStore.Schema}.mt_events where tenant_id = $1"))
        {
            count.Parameters.AddWithValue(workspace.TenantId);
            events = (long)(await count.ExecuteScalarAsync(ct))!;
        }
        total(events);

        var reports = new List<RebuildReport>();
        // One pass over the events rebuilds the inline views and the audit log together.
        var folded = projections.Where(InlineViewRebuilder.Views.Contains).ToList();
        if (folded.Count > 0)
        {
            var rebuilder = new InlineViewRebuilder(store, data, workspace, timeTravel.SnapshotEvery);
            reports.AddRange(await rebuilder.RebuildAsync(folded, apply: true, progress, ct));
        }
        foreach (var name in projections.Where(p => !InlineViewRebuilder.Views.Contains(p)))
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            if (name == AuditTrail.HashChainProjectionName)
            {
                reports.Add(await ExtendChain(workspace, watch, ct));
                continue;
            }
            // The workspace's shard only: Marten tears down and replays that tenant's rows. Resolved here: with the audit
            // worker on (Registry:Audit:Worker) Marten's daemon is not registered, and the audit projections never get here.
            var coordinator = services.GetService<IProjectionCoordinator>()
                              ?? throw new InvalidOperationException($"Projection {name} is rebuilt by Marten's async daemon, which is off.");
            await coordinator.DaemonForMainDatabase().RebuildProjectionAsync(name, workspace.TenantId, TimeSpan.FromMinutes(30), ct);
            reports.Add(new RebuildReport(name, 0, events, 0, [], watch.Elapsed));
        }
        return reports;
    }

    /// <summary>
    /// The hash chain is never re-derived (that would launder a tampered event): "rebuilding" it means extending
    /// it over every event up to the high-water mark at the start, which the async daemon does. Waits for that.
    /// <c>GET /api/v1/audit/verify</c> recomputes the existing links.
    /// </summary>
    private async Task<RebuildReport> ExtendChain(WorkspaceId workspace, System.Diagnostics.Stopwatch watch, CancellationToken ct)
    {
        var mark = await StorePosition.HighWaterMark(data, RegistryStore.Schema, workspace, ct);
        long head;
        while (true)
        {
            // The workspace's own chain: its links carry its tenant id (each workspace's chain starts at its own genesis).
            await using (var command = data.CreateCommand($"select coalesce(max(seq_id), 0), count(*) from {AuditTrail.ChainTable} where tenant_id = $1"))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
                await using var reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                head = reader.GetInt64(0);
                if (head >= mark)
                    return new RebuildReport(AuditTrail.HashChainProjectionName, 0, reader.GetInt64(1), 0,
                        [$"links are never re-derived; the chain covers every event up to sequence {head:N0} (GET /api/v1/audit/verify recomputes them)"],
                        watch.Elapsed);
            }
            if (watch.Elapsed > ChainTimeout)
                throw new TimeoutException($"The hash chain is at sequence {head:N0}, short of {mark:N0}, after {ChainTimeout.TotalMinutes:0} minutes.");
            await Task.Delay(100, ct);
        }
    }

    private static readonly TimeSpan ChainTimeout = TimeSpan.FromMinutes(30);
}

/// <summary>A rebuild's node is stopping: the rebuild was let go (or not started), and its message goes back to Wolverine.</summary>
public sealed class NodeStoppingException() : OperationCanceledException("The node stops; the rebuild runs on the next node.");

/// <summary>Runs a rebuild's message on whichever node Wolverine gives it to.</summary>
public static class RunProjectionRebuildHandler
{
    /// <summary>
    /// A rebuild runs for minutes (Wolverine cancels a handler after 60 s by default). A message whose node is stopping is
    /// scheduled again in Wolverine's durable inbox, owned by no node (what <c>ScheduleRetry</c> does on a durable local
    /// queue), and picked up by whichever node polls the inbox after <see cref="ProjectionRebuilds.LetGoDelay"/>: another
    /// node, this one restarted, or this one while it is still stopping, which hands it back untouched. Not <c>Requeue</c>:
    /// until Wolverine's own stop latches the queue (after the host's other services have stopped), a requeued message runs
    /// again at once on the node that is stopping. Indefinitely: a message is never dead-lettered because nodes stopped.
    /// </summary>
    public static void Configure(HandlerChain chain)
    {
        chain.ExecutionTimeoutInSeconds = (int)ProjectionRebuilds.RunTimeout.TotalSeconds;
        chain.OnException<NodeStoppingException>().ScheduleRetryIndefinitely(ProjectionRebuilds.LetGoDelay);
        // Anything else that escapes a run (a rebuild's own failure is caught and written as failed) is the job's row that
        // could not be read or written: the database gone for a moment, a write refused. Wolverine's default (three tries at
        // once, then the dead-letter table) would leave the job running for good, and the one-active-rebuild index would
        // refuse every later rebuild. Scheduled again instead, backing off, until it runs: a run that counted an attempt
        // counts towards MaxAttempts, after which the job ends failed; one that could not even read the job waits for the
        // database, like every other durable message.
        chain.OnException(e => e is not NodeStoppingException, "the job could not be read or written").ScheduleRetryIndefinitely(ProjectionRebuilds.RetryDelays);
    }

    public static Task Handle(RunProjectionRebuild message, ProjectionRebuilds rebuilds, IWolverineRuntime runtime, CancellationToken ct) =>
        rebuilds.RunAsync(message, runtime.Options.UniqueNodeId, ct);
}

public static class ProjectionRebuildStore
{
    /// <summary>The rebuild jobs' table, created with the schema; the unique index that lets one rebuild run at a time.</summary>
    public static StoreOptions AddProjectionRebuilds(this StoreOptions options)
    {
        options.Schema.For<ProjectionRebuildJob>()
            .UseOptimisticConcurrency(true)
            .UniqueIndex(UniqueIndexType.DuplicatedField, ProjectionRebuildJob.ActiveIndex, TenancyScope.Global, j => j.Active!);
        return options;
    }
}
