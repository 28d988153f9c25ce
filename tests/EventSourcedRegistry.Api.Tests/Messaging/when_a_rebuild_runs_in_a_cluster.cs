using System.Text.Json.Nodes;
using Alba;
using EventSourcedRegistry.Api.Admin;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Wolverine.Runtime;

namespace EventSourcedRegistry.Api.Tests.Messaging;

/// <summary>
/// Issue 16 item 4: a projection rebuild is a job in the database and a durable message, so every node of a cluster shows
/// it, and a node that stops in the middle leaves it to the next node, which runs it again from the start.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_a_rebuild_runs_in_a_cluster(AppFixture app)
{
    private static Guid NodeOf(IAlbaHost node) => node.Services.GetRequiredService<IWolverineRuntime>().Options.UniqueNodeId;

    private static async Task<ProjectionRebuildJob?> Job(IAlbaHost node, Guid id)
    {
        await using var session = node.Services.GetRequiredService<IDocumentStore>().QuerySession(WorkspaceId.Default.TenantId);
        return await session.LoadAsync<ProjectionRebuildJob>(id);
    }

    /// <summary>Starts a rebuild through the node and waits until that node runs it (its first attempt).</summary>
    private static async Task<Guid> StartedOn(IAlbaHost node)
    {
        var id = Guid.Parse((await node.Post("/api/v1/admin/projections/rebuild", new { projection = "ModelView" }).Ok(202)).Body!["id"]!.GetValue<string>());
        Assert.True(await ClusterNode.Eventually(async () => await Job(node, id) is { Attempts: 1, Node: { } running } && running == NodeOf(node),
            TimeSpan.FromSeconds(60)), "the node never started the rebuild");
        return id;
    }

    private static async Task<JsonNode> Ended(IAlbaHost node, string id)
    {
        JsonNode? status = null;
        Assert.True(await ClusterNode.Eventually(async () =>
            (status = (await node.Get($"/api/v1/admin/projections/rebuilds/{id}").Ok()).Body!)["state"]!.GetValue<string>() != "running",
            TimeSpan.FromSeconds(120)), $"rebuild {id} did not end: {status?.ToJsonString()}");
        return status!;
    }

    [Fact]
    public async Task another_node_shows_the_rebuild_it_did_not_run()
    {
        var database = await ClusterNode.NewDatabase(app, "rebuildview");
        var key = ClusterNode.NewSigningKeyPath();
        await using var first = await ClusterNode.Start(database, key);
        await using var second = await ClusterNode.Start(database, key);
        await first.RegisterModel("churn");
        await first.RegisterVersion("churn");

        var id = (await first.Post("/api/v1/admin/projections/rebuild", new { projection = "ModelView" }).Ok(202)).Body!["id"]!.GetValue<string>();
        var seen = await Ended(second, id);

        Assert.True(seen["state"]!.GetValue<string>() == "succeeded", seen.ToJsonString());
        Assert.Equal(NodeOf(first), seen["node"]!.GetValue<Guid>());
        Assert.Equal(seen.ToJsonString(), (await second.Get("/api/v1/admin/projections").Ok()).Body!["rebuild"]!.ToJsonString());
        Assert.Equal(seen.ToJsonString(), (await first.Get($"/api/v1/admin/projections/rebuilds/{id}").Ok()).Body!.ToJsonString());
        // One at a time across the nodes: the second node refuses while the first node's next rebuild has not ended.
        await using (await StreamLocks.Hold(database, WorkspaceId.Default))
        {
            var next = (await first.Post("/api/v1/admin/projections/rebuild", new { projection = "ModelView" }).Ok(202)).Body!["id"]!.GetValue<string>();
            Assert.Contains(next, (await second.Post("/api/v1/admin/projections/rebuild", new { })).AssertProblem(409)["detail"]!.GetValue<string>());
            id = next;
        }
        Assert.Equal("succeeded", (await Ended(second, id))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_rebuild_whose_node_stops_is_run_again_from_the_start_by_the_next_node()
    {
        var database = await ClusterNode.NewDatabase(app, "rebuildstop");
        var key = ClusterNode.NewSigningKeyPath();
        Guid id, stopped;
        var first = await ClusterNode.Start(database, key);
        var running = true;
        try
        {
            await first.RegisterModel("churn");
            await first.RegisterVersion("churn");
            stopped = NodeOf(first);
            await using (await StreamLocks.Hold(database, WorkspaceId.Default))
            {
                // Taken by the first node, and held up at its first batch by the locks until the node stops.
                id = await StartedOn(first);
                running = false;
                await first.DisposeAsync();
            }
        }
        finally
        {
            if (running) await first.DisposeAsync();
        }
        // Let go by the node that stopped: still running, on no node, its message kept for the next node.
        Assert.Equal(("running", (Guid?)null), await StoredState(database, id));

        await using var next = await ClusterNode.Start(database, key);
        var status = await Ended(next, id.ToString());

        Assert.True(status["state"]!.GetValue<string>() == "succeeded", status.ToJsonString());
        Assert.Equal(2, status["attempts"]!.GetValue<int>());
        Assert.Equal(NodeOf(next), status["node"]!.GetValue<Guid>());
        Assert.NotEqual(stopped, NodeOf(next));
        Assert.Equal(0, status["reports"]![0]!["differences"]!.GetValue<long>());
    }

    [Fact]
    public async Task a_node_slow_to_stop_lets_the_rebuild_go_once_and_starts_no_attempt_however_often_the_message_comes_back()
    {
        var database = await ClusterNode.NewDatabase(app, "rebuildslow");
        var key = ClusterNode.NewSigningKeyPath();
        var gate = new StopGate();
        Guid id, stopped;
        await using (var first = await ClusterNode.StartSlowToStop(database, key, gate))
        try
        {
            await first.RegisterModel("churn");
            await first.RegisterVersion("churn");
            stopped = NodeOf(first);
            await using (await StreamLocks.Hold(database, WorkspaceId.Default))
            {
                id = await StartedOn(first);
                // The node begins to stop, and its services have not stopped yet: Wolverine still runs its queues and its
                // durability agent, so the rebuild's message comes back to the node that is stopping.
                first.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
                Assert.True(await ClusterNode.Eventually(async () =>
                        (await StoredState(database, id)).State != "running" || await Handled(database) >= 3,
                    TimeSpan.FromSeconds(90)), $"the stopping node did not have the rebuild's message three times: {await Stored(database, id)}");
            }

            // Had three times by the node that is stopping: let go once, on no node, and the one attempt it interrupted.
            Assert.True((await StoredState(database, id)) == ("running", null), await Stored(database, id));
            Assert.True((await Job(first, id))!.Attempts == 1, await Stored(database, id));
        }
        finally
        {
            gate.Open();
        }

        await using var next = await ClusterNode.Start(database, key);
        var status = await Ended(next, id.ToString());

        Assert.True(status["state"]!.GetValue<string>() == "succeeded", status.ToJsonString());
        Assert.True(status["attempts"]!.GetValue<int>() == 2, status.ToJsonString());
        Assert.Equal(NodeOf(next), status["node"]!.GetValue<Guid>());
    }

    /// <summary>The job's row and the rebuild messages' rows as stored, for a failure's message.</summary>
    private async Task<string> Stored(string database, Guid id) =>
        string.Join("; ", (await app.SqlListOn<string>(database,
                $"select data::text from {RegistryStore.Schema}.mt_doc_projectionrebuildjob where id = $1", id))
            .Concat(await app.SqlListOn<string>(database,
                "select concat_ws(' ', status, owner_id, attempts, execution_time) from wolverine.wolverine_incoming_envelopes where message_type ilike '%RunProjectionRebuild%'")));

    /// <summary>How often Wolverine handed the rebuild's stored message to a handler (its inbox row's attempts), 0 once it is handled.</summary>
    private async Task<int> Handled(string database) =>
        (await app.SqlListOn<int>(database,
            "select attempts from wolverine.wolverine_incoming_envelopes where message_type ilike '%RunProjectionRebuild%' and status <> 'Handled'"))
        .DefaultIfEmpty(0).Max();

    private async Task<(string State, Guid? Node)> StoredState(string database, Guid id)
    {
        var rows = await app.SqlListOn<string>(database,
            $"select data ->> 'state' || '|' || coalesce(data ->> 'node', '') from {RegistryStore.Schema}.mt_doc_projectionrebuildjob where id = $1", id);
        var parts = Assert.Single(rows).Split('|');
        return (parts[0], parts[1] == "" ? null : Guid.Parse(parts[1]));
    }
}

/// <summary>
/// Without durable messaging (<c>Registry:Messaging:Durable=false</c>) a rebuild's message lives in its node's memory: a
/// rebuild whose node is gone cannot run again, and is reported interrupted instead of running forever (and blocking every
/// later rebuild).
/// </summary>
[Collection(AppCollection.Name)]
public sealed class when_a_rebuild_runs_without_durable_messaging(AppFixture app)
{
    [Fact]
    public async Task a_rebuild_whose_node_is_gone_is_reported_interrupted_and_the_next_one_runs()
    {
        var database = await ClusterNode.NewDatabase(app, "rebuildmem");
        await using var node = await ClusterNode.Start(database, ClusterNode.NewSigningKeyPath(), ("Registry:Messaging:Durable", "false"));
        await node.RegisterModel("churn");
        // What a node killed in the middle of a rebuild leaves: running, on that node, its last progress a minute old.
        var gone = new ProjectionRebuildJob
        {
            Id = Guid.NewGuid(), Workspace = WorkspaceId.Default.Slug, Projections = ["ModelView"], Attempts = 1, Node = Guid.NewGuid(),
            EventsTotal = 10, EventsProcessed = 4, RequestedAt = DateTimeOffset.UtcNow.AddMinutes(-2), UpdatedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
        };
        await using (var session = node.Services.GetRequiredService<IDocumentStore>().LightweightSession(WorkspaceId.Default.TenantId))
        {
            session.Insert(gone);
            await session.SaveChangesAsync();
        }

        var started = await node.Post("/api/v1/admin/projections/rebuild", new { projection = "ModelView" }).Ok(202);
        var interrupted = (await node.Get($"/api/v1/admin/projections/rebuilds/{gone.Id}").Ok()).Body!;

        Assert.Equal("interrupted", interrupted["state"]!.GetValue<string>());
        Assert.Contains("not durable", interrupted["error"]!.GetValue<string>());
        Assert.NotNull(interrupted["finishedAt"]);
        var id = started.Body!["id"]!.GetValue<string>();
        JsonNode? status = null;
        Assert.True(await ClusterNode.Eventually(async () =>
            (status = (await node.Get("/api/v1/admin/projections").Ok()).Body!["rebuild"]!)["state"]!.GetValue<string>() != "running",
            TimeSpan.FromSeconds(120)), status?.ToJsonString());
        Assert.Equal(id, status!["id"]!.GetValue<string>());
        Assert.Equal("succeeded", status["state"]!.GetValue<string>());
    }
}
