using EventSourcedRegistry.Api.Audit.Checkpoints;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace EventSourcedRegistry.Api.Tests.Messaging;

[Collection(AppCollection.Name)]
public sealed class when_background_work_is_durable(AppFixture app)
{
    [Fact]
    public async Task a_message_sent_by_a_node_that_stops_before_handling_it_is_handled_by_the_next_node()
    {
        var database = await ClusterNode.NewDatabase(app, "durable");
        var key = ClusterNode.NewSigningKeyPath();
        CheckpointSchedule stopped;
        await using (var first = await ClusterNode.Start(database, key))
        {
            await first.RegisterModel("fraud-detector");
            // Due in 2 s, stored in Wolverine's inbox at once; the node stops before it is due.
            using var scope = first.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().ScheduleAsync(new SignAuditCheckpoints(DateTimeOffset.UtcNow), TimeSpan.FromSeconds(2));
            stopped = first.Services.GetRequiredService<CheckpointSchedule>();
        }
        Assert.Empty(stopped.Occurrences);

        await using var next = await ClusterNode.Start(database, key);
        var store = next.Services.GetRequiredService<IDocumentStore>();
        Assert.True(await ClusterNode.Eventually(async () =>
        {
            await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
            return await session.Query<AuditCheckpoint>().AnyAsync();
        }, TimeSpan.FromSeconds(60)), "the node started after the stop never handled the stored message");
        Assert.Single(next.Services.GetRequiredService<CheckpointSchedule>().Occurrences);
    }
}

/// <summary>
/// Issue 16 item 4: the periodic checkpoint signing on two nodes of one database. Before, every node ran its own timer and
/// both signed each interval (racing on the same head, or signing two heads); now one agent of the cluster publishes each
/// occurrence once and one node handles it.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_two_nodes_sign_checkpoints(AppFixture app)
{
    [Fact]
    public async Task each_interval_is_signed_by_one_node_only()
    {
        var database = await ClusterNode.NewDatabase(app, "signing");
        var key = ClusterNode.NewSigningKeyPath();
        await using var first = await ClusterNode.Start(database, key, ("Registry:Audit:CheckpointInterval", "00:00:01"));
        await using var second = await ClusterNode.Start(database, key, ("Registry:Audit:CheckpointInterval", "00:00:01"));
        var schedules = new[] { first, second }.Select(n => n.Services.GetRequiredService<CheckpointSchedule>()).ToList();
        await first.RegisterModel("fraud-detector");
        await second.RegisterModel("churn-predictor");

        var store = first.Services.GetRequiredService<IDocumentStore>();
        Assert.True(await ClusterNode.Eventually(async () =>
        {
            await using var session = store.QuerySession(WorkspaceId.Default.TenantId);
            return schedules.Sum(s => s.Occurrences.Count) >= 4 && await session.Query<AuditCheckpoint>().AnyAsync();
        }, TimeSpan.FromSeconds(60)), $"occurrences handled: {schedules[0].Occurrences.Count} + {schedules[1].Occurrences.Count}");

        var handled = schedules.SelectMany(s => s.Occurrences).ToList();
        Assert.Equal(handled.Count, handled.Distinct().Count());
    }
}
