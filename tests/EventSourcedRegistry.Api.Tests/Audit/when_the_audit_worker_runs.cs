using Alba;
using EventSourcedRegistry.Api.Audit;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Api.Tests.Workspaces;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using JasperFx.Events.Daemon;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Audit;

/// <summary>
/// The registry's own audit worker (<c>Registry:Audit:Worker</c>, on by default), which replaces Marten's per-workspace daemon
/// agents and their poll over every workspace (docs/design/workspaces.md §5 #8): a workspace created after the host started
/// is audited without any agent being started for it, and a sequence drawn by an append that never committed does not hold
/// the workspace's high-water mark back once no transaction can still commit it. The worker remembers the marks it writes
/// and polls on one held connection: a progress row changed beside it and a broken connection must not stop the audit.
/// </summary>
public sealed class when_the_audit_worker_runs(AppFixture app) : WorkspaceTest(app)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task a_workspace_created_after_start_is_audited_past_a_dead_sequence_without_the_daemon()
    {
        // The worker is the default: the workspaces host sets nothing about it.
        Assert.Null(Host.Services.GetService<IProjectionCoordinator>());
        var worker = Host.Services.GetRequiredService<AuditWorker>();

        var team = WorkspaceId.Parse(NewSlug("late"));
        await WorkspacePartitions.AddAsync(Store, team, CancellationToken.None);
        await Host.CreateInDirectory(team);
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "churn" })).Status);
        var first = await Head(Host, team);

        // An append that drew its number and never committed: a hole the mark may pass only once it is dead.
        var data = Host.Services.GetRequiredService<NpgsqlDataSource>();
        var suffix = await WorkspacePartitions.SuffixAsync(data, team, CancellationToken.None);
        await using (var draw = data.CreateCommand($"select nextval('{WorkspacePartitions.EventSequence(RegistryStore.Schema, suffix!)}')"))
            await draw.ExecuteScalarAsync();
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "fraud" })).Status);
        var last = await Head(Host, team);
        Assert.True(last > first + 1, $"the second model's events follow the hole: {first} then {last}");

        var verdict = await VerifiedThrough(Host, team, last);
        Assert.Equal(last, verdict["headSequence"]!.GetValue<long>());
        Assert.True(worker.IsLeader);
        Assert.Equal(last, await StorePosition.HighWaterMark(data, RegistryStore.Schema, team, CancellationToken.None));
        var log = await Host.GetIn(team, "/api/v1/audit?limit=100");
        Assert.Equal(200, log.Status);
        var types = log.Body!["items"]!.AsArray().Select(i => i!["eventType"]!.GetValue<string>()).ToList();
        Assert.Contains("ModelRegistered", types);
    }

    /// <summary>
    /// Guards the remembered marks: another writer (an operator, a daemon left on, Marten's own rebuild) empties the default
    /// workspace's audit log and sets its progress back to 0. A worker that wrote its progress from memory would carry on
    /// past the hole and the log would lack the first model for good; this one finds the row changed, reads the marks again
    /// and projects the log from the start.
    /// </summary>
    [Fact]
    public async Task progress_changed_beside_the_worker_is_read_again_not_overwritten()
    {
        Assert.Equal(201, (await Post("/api/v1/models", new { name = "churn" })).Status);
        var first = await Head(Host, WorkspaceId.Default);
        await VerifiedThrough(Host, WorkspaceId.Default, first);
        await LoggedThrough(first);

        await App.SqlOn(App.WorkspacesConnectionString,
            "delete from registry.audit_log where tenant_id = 'default'; " +
            "update registry.mt_event_progression set last_seq_id = 0 where name = 'AuditLog:All:default'");
        Assert.Equal(201, (await Post("/api/v1/models", new { name = "fraud" })).Status);
        var last = await Head(Host, WorkspaceId.Default);

        await LoggedThrough(last);
        var logged = await App.SqlListOn<long>(App.WorkspacesConnectionString,
            "select seq_id from registry.audit_log where tenant_id = 'default' order by seq_id");
        Assert.Contains(first, logged);
        Assert.Equal(await App.SqlListOn<long>(App.WorkspacesConnectionString,
            "select seq_id from registry.mt_events where tenant_id = 'default' order by seq_id"), logged);
    }

    /// <summary>The worker polls on one held connection: when PostgreSQL ends it, a new one is opened, the lock taken again and the audit goes on.</summary>
    [Fact]
    public async Task a_broken_worker_connection_is_replaced_and_the_audit_goes_on()
    {
        var worker = Host.Services.GetRequiredService<AuditWorker>();
        Assert.Equal(201, (await Post("/api/v1/models", new { name = "churn" })).Status);
        await VerifiedThrough(Host, WorkspaceId.Default, await Head(Host, WorkspaceId.Default));
        var leaderships = worker.Leaderships;

        // The holder of the worker's advisory lock in this database (a bigint key: high half in classid, low half in objid).
        var ended = await App.SqlListOn<bool>(App.WorkspacesConnectionString,
            "select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and objsubid = 1 " +
            "and database = (select oid from pg_database where datname = current_database()) and ((classid::bigint << 32) | objid::bigint) = $1",
            AuditWorker.LockKey);
        Assert.Equal([true], ended);

        Assert.Equal(201, (await Post("/api/v1/models", new { name = "fraud" })).Status);
        var last = await Head(Host, WorkspaceId.Default);
        await VerifiedThrough(Host, WorkspaceId.Default, last);
        Assert.True(worker.Leaderships > leaderships, "the worker took its lock again on a new connection");
        Assert.True(worker.IsLeader);
    }

    private async Task LoggedThrough(long sequence)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while ((await App.SqlListOn<long>(App.WorkspacesConnectionString,
                   "select coalesce(last_seq_id, 0) from registry.mt_event_progression where name = 'AuditLog:All:default'")).SingleOrDefault() < sequence)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"the audit log did not reach {sequence} within {Patience.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    internal static async Task<long> Head(IAlbaHost host, WorkspaceId workspace)
    {
        var data = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var command = data.CreateCommand("select coalesce(max(seq_id), 0) from registry.mt_events where tenant_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task<System.Text.Json.Nodes.JsonNode> VerifiedThrough(IAlbaHost host, WorkspaceId workspace, long sequence)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            var verify = await host.GetIn(workspace, "/api/v1/audit/verify");
            if (verify.Status == 200 && verify.Body!["verified"]!.GetValue<bool>() && verify.Body["headSequence"]?.GetValue<long>() >= sequence)
                return verify.Body;
            Assert.True(DateTimeOffset.UtcNow < deadline, $"not verified through {sequence} within {Patience.TotalSeconds} s: {verify.Status} {verify.Body}");
            await Task.Delay(100);
        }
    }
}

/// <summary><c>Registry:Audit:Worker=false</c> keeps working: Marten's async daemon audits and verifies, and no worker runs.</summary>
[Collection(AppCollection.Name)]
public sealed class when_the_audit_worker_is_off(AppFixture app)
{
    [Fact]
    public async Task martens_daemon_runs_the_audit_instead()
    {
        var host = await app.AuditDaemonHost();
        Assert.Null(host.Services.GetService<AuditWorker>());
        Assert.NotNull(host.Services.GetService<IProjectionCoordinator>());

        Assert.Equal(201, (await host.PostIn(WorkspaceId.Default, "/api/v1/models", new { name = "churn" })).Status);
        var last = await when_the_audit_worker_runs.Head(host, WorkspaceId.Default);
        var verdict = await when_the_audit_worker_runs.VerifiedThrough(host, WorkspaceId.Default, last);
        Assert.Equal(last, verdict["headSequence"]!.GetValue<long>());
    }
}
