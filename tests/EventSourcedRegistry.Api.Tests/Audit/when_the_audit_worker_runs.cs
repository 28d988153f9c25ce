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
/// The registry's own audit worker (<c>Registry:Audit:Worker</c>), which replaces Marten's per-workspace daemon agents and
/// their poll over every workspace (docs/design/workspaces.md §5 #8): a workspace created after the host started is audited
/// without any agent being started for it, and a sequence drawn by an append that never committed does not hold the
/// workspace's high-water mark back once no transaction can still commit it.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_the_audit_worker_runs(AppFixture app)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task a_workspace_created_after_start_is_audited_past_a_dead_sequence_without_the_daemon()
    {
        var host = await app.AuditWorkerHost();
        Assert.Null(host.Services.GetService<IProjectionCoordinator>());
        var worker = host.Services.GetRequiredService<AuditWorker>();

        var team = WorkspaceId.Parse($"late-{Guid.NewGuid():N}"[..20]);
        var store = host.Services.GetRequiredService<Marten.IDocumentStore>();
        await WorkspacePartitions.AddAsync(store, team, CancellationToken.None);
        await host.CreateInDirectory(team);
        Assert.Equal(201, (await host.PostIn(team, "/api/v1/models", new { name = "churn" })).Status);
        var first = await Head(host, team);

        // An append that drew its number and never committed: a hole the mark may pass only once it is dead.
        var data = host.Services.GetRequiredService<NpgsqlDataSource>();
        var suffix = await WorkspacePartitions.SuffixAsync(data, team, CancellationToken.None);
        await using (var draw = data.CreateCommand($"select nextval('{WorkspacePartitions.EventSequence(RegistryStore.Schema, suffix!)}')"))
            await draw.ExecuteScalarAsync();
        Assert.Equal(201, (await host.PostIn(team, "/api/v1/models", new { name = "fraud" })).Status);
        var last = await Head(host, team);
        Assert.True(last > first + 1, $"the second model's events follow the hole: {first} then {last}");

        var verdict = await VerifiedThrough(host, team, last);
        Assert.Equal(last, verdict["headSequence"]!.GetValue<long>());
        Assert.True(worker.IsLeader);
        Assert.Equal(last, await StorePosition.HighWaterMark(data, RegistryStore.Schema, team, CancellationToken.None));
        var log = await host.GetIn(team, "/api/v1/audit?limit=100");
        Assert.Equal(200, log.Status);
        var types = log.Body!["items"]!.AsArray().Select(i => i!["eventType"]!.GetValue<string>()).ToList();
        Assert.Contains("ModelRegistered", types);
    }

    private static async Task<long> Head(IAlbaHost host, WorkspaceId workspace)
    {
        var data = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var command = data.CreateCommand("select coalesce(max(seq_id), 0) from registry.mt_events where tenant_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = workspace.TenantId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> VerifiedThrough(IAlbaHost host, WorkspaceId workspace, long sequence)
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
