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

/// <summary>Issue 16 item 4: a registry-wide rollback whose node stops half-way is finished by the next node.</summary>
[Collection(AppCollection.Name)]
public sealed class when_a_node_stops_during_a_registry_rollback(AppFixture app)
{
    private const int Models = 300;

    [Fact]
    public async Task the_next_node_rolls_back_the_models_still_pending_and_every_model_gets_one_outcome()
    {
        var database = await ClusterNode.NewDatabase(app, "rollback");
        var key = ClusterNode.NewSigningKeyPath();
        string location;
        int pendingAtStop;
        await using (var first = await ClusterNode.Start(database, key))
        {
            var store = first.Services.GetRequiredService<IDocumentStore>();
            long target;
            var ids = new List<Guid>();
            await using (var session = store.LightweightSession(WorkspaceId.Default.TenantId))
            {
                for (var i = 0; i < Models; i++)
                {
                    var id = Guid.NewGuid();
                    var name = $"model-{i:D3}";
                    session.Events.StartStream<EventSourcedRegistry.Models.ModelView>(id,
                        new EventSourcedRegistry.Models.ModelRegistered(id, name, null, new Dictionary<string, string>()),
                        new EventSourcedRegistry.Models.ModelVersionRegistered(id, 1, "None", new EventSourcedRegistry.Models.ArtifactReference("s3://m/a", RegistryCalls.Sha256A, null), null,
                            new Dictionary<string, string>(), new Dictionary<string, double>(), new Dictionary<string, string>(), null, null));
                    session.Store(new EventSourcedRegistry.Models.ModelNameIndex { Id = name, ModelId = id });
                    ids.Add(id);
                }
                await session.SaveChangesAsync();
            }
            await using (var query = store.QuerySession(WorkspaceId.Default.TenantId))
                target = await query.Events.QueryAllRawEvents().MaxAsync(e => e.Sequence);
            await using (var session = store.LightweightSession(WorkspaceId.Default.TenantId))
            {
                foreach (var id in ids) session.Events.Append(id, new EventSourcedRegistry.Models.ModelVersionStageTransitioned(id, 1, "None", "Staging", "train"));
                await session.SaveChangesAsync();
            }

            // Answered once the store's high-water mark has passed the point (a 503 until then).
            RegistryCalls.Response accepted = null!;
            Assert.True(await ClusterNode.Eventually(async () =>
                (accepted = await first.Post("/api/v1/registry/rollback", new { atSequence = target, reason = "undo the train" })).Status == 202,
                TimeSpan.FromSeconds(60)), $"{accepted.Status} {accepted.Body}");
            location = accepted.Header("Location")!;
        }
        await using var next = await ClusterNode.Start(database, key);
        pendingAtStop = (await next.Get(location).Ok()).Body!["pending"]!.GetValue<int>();

        RegistryCalls.Response status = null!;
        Assert.True(await ClusterNode.Eventually(async () =>
            (status = await next.Get(location).Ok()).Body!["state"]!.GetValue<string>() == "completed", TimeSpan.FromSeconds(120)),
            $"{status.Body?["pending"]} of {Models} models still pending");
        Assert.True(pendingAtStop > 0, "the first node handled every model before it stopped: nothing was left to resume");
        Assert.Equal(Models, status.Body!["rolledBack"]!.GetValue<int>() + status.Body["unchanged"]!.GetValue<int>());
        Assert.Empty((await next.Get("/api/v1/models?stage=Staging").Ok()).Body!["items"]!.AsArray());
    }
}
