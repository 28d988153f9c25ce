using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Workspaces;

/// <summary>
/// The event-gap guard per workspace (docs/design/workspaces.md §5 #11, §8.2). Each workspace draws its events from a
/// sequence of its own, and Marten writes a workspace's placeholders at that workspace's numbers: the guard, cloned to every
/// partition, stores none of them, so after a crash a workspace's next append cannot collide with one (23505). The repair
/// still moves a workspace's sequence past its own stored events (a store written before the guard keeps its placeholders).
/// </summary>
public sealed class when_a_workspace_sequence_falls_behind(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_placeholder_is_not_stored_in_a_workspace_whose_sequence_was_thrown_back_and_its_next_append_takes_the_number()
    {
        var team = await App.NewWorkspace();
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "churn" })).Status);
        await Host.RegisterModel("fraud");
        var defaultBefore = await App.SequenceValue(WorkspaceId.Default);
        var stream = (await App.SqlList<Guid>("select id from registry.mt_streams where tenant_id = $1", team.TenantId)).Single();
        var top = (await App.SequencesIn(team)).Max();

        // As after a crash of PostgreSQL: the workspace's sequence restarted below a number whose placeholder Marten then writes.
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        var suffix = await WorkspacePartitions.SuffixAsync(data, team, CancellationToken.None);
        await App.SqlList<long>($"select setval('{WorkspacePartitions.EventSequence(RegistryStore.Schema, suffix!)}', {top})");
        var inserted = await App.Sql(
            "insert into registry.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id) " +
            "values ($3, gen_random_uuid(), $1, 1000, '{}'::jsonb, 'tombstone', '-infinity', $2)", stream, team.TenantId, top + 1);

        Assert.Equal(0, inserted);
        Assert.Equal(top, await App.SequenceValue(team));
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "fraud" })).Status);
        Assert.Equal(top + 1, (await App.SequencesIn(team)).Max());
        Assert.Equal(defaultBefore, await App.SequenceValue(WorkspaceId.Default));
    }

    [Fact]
    public async Task the_repair_moves_the_workspace_sequence_past_its_own_events_only()
    {
        var team = await App.NewWorkspace();
        for (var i = 0; i < 3; i++)
            Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = $"model-{i}" })).Status);
        await Host.RegisterModel("churn");
        var defaultBefore = await App.SequenceValue(WorkspaceId.Default);
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        var suffix = await WorkspacePartitions.SuffixAsync(data, team, CancellationToken.None);
        await App.SqlList<long>($"select setval('{WorkspacePartitions.EventSequence(RegistryStore.Schema, suffix!)}', 1)");

        Assert.True(await EventGaps.RepairSequenceAsync(data, RegistryStore.Schema, team, CancellationToken.None));
        Assert.Equal(3, await App.SequenceValue(team));
        Assert.Equal(defaultBefore, await App.SequenceValue(WorkspaceId.Default));
        Assert.False(await EventGaps.RepairSequenceAsync(data, RegistryStore.Schema, team, CancellationToken.None));
        Assert.False(await EventGaps.RepairSequenceAsync(data, RegistryStore.Schema, WorkspaceId.Default, CancellationToken.None));
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "model-3" })).Status);
        Assert.Equal([1, 2, 3, 4], await App.SequencesIn(team));
    }

    [Fact]
    public async Task a_command_in_a_workspace_whose_sequence_fell_behind_is_applied_once()
    {
        var team = await App.NewWorkspace();
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "churn" })).Status);
        Assert.Equal(201, (await Host.PostIn(team, "/api/v1/models", new { name = "fraud" })).Status);
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        var suffix = await WorkspacePartitions.SuffixAsync(data, team, CancellationToken.None);
        await App.SqlList<long>($"select setval('{WorkspacePartitions.EventSequence(RegistryStore.Schema, suffix!)}', 1)");

        // The collision is refused, the workspace's sequence repaired, and the command decided again (ModelCommands).
        var edited = await Host.PostIn(team, "/api/v1/models/churn/versions",
            new { artifact = new { uri = "s3://m/1.onnx", sha256 = RegistryCalls.Sha256A, sizeBytes = 1 } });
        Assert.Equal(201, edited.Status);
        Assert.Equal([1, 2, 3], await App.SequencesIn(team));
    }
}
