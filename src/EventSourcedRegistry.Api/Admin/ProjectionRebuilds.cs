using EventSourcedRegistry.Audit;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Rebuild;
using EventSourcedRegistry.Store;
using JasperFx.Events.Daemon;
using Marten;
using Npgsql;

namespace EventSourcedRegistry.Api.Admin;

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
    string? Error);

/// <summary>
/// Runs one rebuild at a time in the background and remembers how it went. The inline views and the audit log
/// are rebuilt by <see cref="InlineViewRebuilder"/> in one pass (the API keeps serving); the hash chain is only
/// ever extended; any other async projection is rebuilt by Marten's daemon. A rebuild is one workspace's: it reads and
/// writes that workspace's rows only. One at a time across workspaces: a rebuild is heavy, and the node has one pool.
/// </summary>
public sealed class ProjectionRebuilds(IDocumentStore store, NpgsqlDataSource data, IServiceProvider services,
    TimeTravelSettings timeTravel, ILogger<ProjectionRebuilds> logger)
{
    private readonly object _gate = new();
    private RebuildStatus? _current;
    private long _processed;

    public RebuildStatus? Current
    {
        get
        {
            lock (_gate) return _current is { State: "running" } running ? running with { EventsProcessed = Interlocked.Read(ref _processed) } : _current;
        }
    }

    /// <summary>
    /// The latest rebuild when it is <paramref name="workspace"/>'s: another workspace's (its slug, projections and event
    /// counts) is not this one's business.
    /// </summary>
    public RebuildStatus? CurrentOf(WorkspaceId workspace) => Current is { } current && current.Workspace == workspace.Slug ? current : null;

    /// <summary>The async projections Marten runs, by name.</summary>
    public IReadOnlyList<string> AsyncProjections =>
        store.Options.Events.Projections()
            .Where(p => p.Lifecycle == JasperFx.Events.Projections.ProjectionLifecycle.Async)
            .Select(p => p.Name).ToList();

    public IReadOnlyList<string> Known => InlineViewRebuilder.Views.Concat(AsyncProjections).Distinct().ToList();

    /// <summary>Starts a rebuild, or says why not (another is running).</summary>
    public RebuildStatus? Start(WorkspaceId workspace, IReadOnlyList<string> projections, out string? refusal)
    {
        lock (_gate)
        {
            if (_current is { State: "running" })
            {
                refusal = $"Rebuild {_current.Id} is still running.";
                return null;
            }
            refusal = null;
            Interlocked.Exchange(ref _processed, 0);
            _current = new RebuildStatus(Guid.NewGuid(), workspace.Slug, projections, "running", 0, 0, DateTimeOffset.UtcNow, null, [], null);
            var started = _current;
            _ = Task.Run(() => Run(workspace, started));
            return started;
        }
    }

    /// <summary>Runs a rebuild to the end in the caller (the host's command line uses this).</summary>
    public async Task<RebuildStatus> RunAsync(WorkspaceId workspace, IReadOnlyList<string> projections, CancellationToken ct)
    {
        var status = Start(workspace, projections, out var refusal) ?? throw new InvalidOperationException(refusal);
        while (Current is { State: "running" }) await Task.Delay(100, ct);
        return Current!;
    }

    /// <summary>
    /// The hash chain is never re-derived (that would launder a tampered event): "rebuilding" it means extending
    /// it over every event up to the high-water mark at the start, which the async daemon does. Waits for that.
    /// <c>GET /api/v1/audit/verify</c> recomputes the existing links.
    /// </summary>
    private async Task<RebuildReport> ExtendChain(WorkspaceId workspace, System.Diagnostics.Stopwatch watch)
    {
        var mark = await StorePosition.HighWaterMark(data, RegistryStore.Schema, workspace, CancellationToken.None);
        long head;
        while (true)
        {
            // The workspace's own chain: its links carry its tenant id (each workspace's chain starts at its own genesis).
            await using (var command = data.CreateCommand($"select coalesce(max(seq_id), 0), count(*) from {AuditTrail.ChainTable} where tenant_id = $1"))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                head = reader.GetInt64(0);
                if (head >= mark)
                    return new RebuildReport(AuditTrail.HashChainProjectionName, 0, reader.GetInt64(1), 0,
                        [$"links are never re-derived; the chain covers every event up to sequence {head:N0} (GET /api/v1/audit/verify recomputes them)"],
                        watch.Elapsed);
            }
            if (watch.Elapsed > ChainTimeout)
                throw new TimeoutException($"The hash chain is at sequence {head:N0}, short of {mark:N0}, after {ChainTimeout.TotalMinutes:0} minutes.");
            await Task.Delay(100);
        }
    }

    private static readonly TimeSpan ChainTimeout = TimeSpan.FromMinutes(30);

    private async Task Run(WorkspaceId workspace, RebuildStatus started)
    {
        try
        {
            long total;
            await using (var count = data.CreateCommand($"select count(*) from {RegistryStore.Schema}.mt_events where tenant_id = $1"))
            {
                count.Parameters.AddWithValue(workspace.TenantId);
                total = (long)(await count.ExecuteScalarAsync())!;
            }
            lock (_gate) _current = _current! with { EventsTotal = total };

            var reports = new List<RebuildReport>();
            // One pass over the events rebuilds the inline views and the audit log together.
            var folded = started.Projections.Where(InlineViewRebuilder.Views.Contains).ToList();
            if (folded.Count > 0)
            {
                var rebuilder = new InlineViewRebuilder(store, data, workspace, timeTravel.SnapshotEvery);
                reports.AddRange(await rebuilder.RebuildAsync(folded, apply: true,
                    new Progress<long>(n => Interlocked.Exchange(ref _processed, n)), CancellationToken.None));
            }
            foreach (var name in started.Projections.Where(p => !InlineViewRebuilder.Views.Contains(p)))
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                if (name == AuditTrail.HashChainProjectionName)
                {
                    reports.Add(await ExtendChain(workspace, watch));
                    continue;
                }
                // The workspace's shard only: Marten tears down and replays that tenant's rows. Resolved here: with the audit
                // worker on (Registry:Audit:Worker) Marten's daemon is not registered, and the audit projections never get here.
                var coordinator = services.GetService<IProjectionCoordinator>()
                                  ?? throw new InvalidOperationException($"Projection {name} is rebuilt by Marten's async daemon, which is off.");
                await coordinator.DaemonForMainDatabase().RebuildProjectionAsync(name, workspace.TenantId, TimeSpan.FromMinutes(30), CancellationToken.None);
                reports.Add(new RebuildReport(name, 0, total, 0, [], watch.Elapsed));
            }
            lock (_gate) _current = _current! with { State = "succeeded", FinishedAt = DateTimeOffset.UtcNow, Reports = reports, EventsProcessed = total };
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Projection rebuild {Id} failed", started.Id);
            lock (_gate) _current = _current! with { State = "failed", FinishedAt = DateTimeOffset.UtcNow, Error = ex.Message };
        }
        finally
        {
            // The audit worker remembers the audit's progress; whatever a rebuild did to the audit's rows, it reads them again.
            services.GetService<Audit.AuditWorker>()?.Reload();
        }
    }
}
