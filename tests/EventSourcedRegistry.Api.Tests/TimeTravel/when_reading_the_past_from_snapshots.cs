using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Models;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

/// <summary>
/// The model as of a sequence is folded from the nearest snapshot (every <see cref="AppFixture.SnapshotEvery"/> stream
/// versions in the test host) plus the events since; it must equal a full replay of the stream at every sequence,
/// on both sides of every snapshot, and the snapshots written inline must be the ones a rebuild writes.
/// </summary>
public sealed class when_reading_the_past_from_snapshots(AppFixture app) : ApiTest(app)
{
    private async Task<Guid> A_model_with_a_history_that_adds_and_removes_aliases_stages_and_deployments()
    {
        await Host.RegisterModel("snap");
        await Host.RegisterModel("bystander");
        for (var i = 0; i < 4; i++) await Host.RegisterVersion("snap");
        await Host.Promote("snap", 1, "Production");
        await Host.Send(HttpMethod.Put, "/api/v1/models/snap/aliases/champion", new { version = 1 });
        await Host.Send(HttpMethod.Put, "/api/v1/models/snap/aliases/challenger", new { version = 2 });
        await Host.Post("/api/v1/models/snap/deployments", new { version = 1, environment = "production", action = "deployed" });
        await Host.Post("/api/v1/models/snap/deployments", new { version = 2, environment = "canary", action = "deployed" });
        await Host.Patch("/api/v1/models/snap/versions/1", new { description = "first", setTags = new { a = "1", b = "2" }, metadata = new { x = 1 } }).Ok();
        await Host.Promote("snap", 2, "Production", archiveExisting: true);
        await Host.Patch("/api/v1/models/snap/versions/1", new { removeTags = new[] { "a" }, setTags = new { c = "3" }, metadata = new { x = 2 } }).Ok();
        await Host.Patch("/api/v1/models/snap/versions/2", new { description = "second" }).Ok();
        await Host.Send(HttpMethod.Delete, "/api/v1/models/snap/aliases/champion");
        await Host.Post("/api/v1/models/snap/deployments", new { version = 1, environment = "production", action = "undeployed" });
        await Host.Send(HttpMethod.Put, "/api/v1/models/snap/aliases/shadow", new { version = 3 });
        await Host.Promote("snap", 3, "Staging");
        await Host.Send(HttpMethod.Put, "/api/v1/models/snap/aliases/champion", new { version = 2 });
        await Host.Post("/api/v1/models/snap/deployments", new { version = 3, environment = "production", action = "deployed" });
        await Host.RegisterVersion("snap");
        await App.WaitForHighWaterMark();
        await using var query = Store.QuerySession(WorkspaceId.Default.TenantId);
        return (await query.LoadAsync<ModelNameIndex>("snap"))!.ModelId;
    }

    private async Task<long[]> SequencesOf(Guid model)
    {
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        await using var command = data.CreateCommand($"select seq_id from {RegistryStore.Schema}.mt_events order by seq_id");
        var all = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) all.Add(reader.GetInt64(0));
        return all.ToArray();
    }

    private async Task Every_sequence_answers_as_a_full_replay_does(Guid model)
    {
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        foreach (var sequence in await SequencesOf(model))
        {
            var replayed = StorePosition.ModelAt(await StorePosition.EventsUpTo(session, model, sequence, CancellationToken.None));
            var fromSnapshot = await StorePosition.ModelAtAsync(session, data, model, sequence, CancellationToken.None);
            Assert.Equal(replayed is null ? "null" : ModelSnapshots.Serialize(StorePosition.Canonical(replayed)),
                fromSnapshot is null ? "null" : ModelSnapshots.Serialize(fromSnapshot));
        }
    }

    [Fact]
    public async Task the_model_at_every_sequence_is_the_full_replay_on_both_sides_of_each_snapshot()
    {
        var model = await A_model_with_a_history_that_adds_and_removes_aliases_stages_and_deployments();

        var written = await Snapshots(model);
        var revision = (await Host.Model("snap"))["revision"]!.GetValue<long>();
        Assert.Equal(Enumerable.Range(1, (int)(revision / AppFixture.SnapshotEvery)).Select(i => (long)i * AppFixture.SnapshotEvery),
            written.Select(s => s.Version));
        await Every_sequence_answers_as_a_full_replay_does(model);
    }

    /// <summary>
    /// Issue 13, item 8: a version as of a point is built from the model view then and only that version's own events;
    /// it must equal the full replay of the stream for every version at every sequence (each the API serves too).
    /// </summary>
    [Fact]
    public async Task every_version_view_at_every_sequence_is_the_full_replay_without_reading_the_stream()
    {
        var model = await A_model_with_a_history_that_adds_and_removes_aliases_stages_and_deployments();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var compared = 0;
        foreach (var sequence in await SequencesOf(model))
        {
            var replayed = StorePosition.VersionsAt(await StorePosition.EventsUpTo(session, model, sequence, CancellationToken.None));
            var then = await StorePosition.ModelAtAsync(session, data, model, sequence, CancellationToken.None);
            var read = then is null
                ? []
                : await StorePosition.VersionViewsAtAsync(session, data, then, Enumerable.Range(1, then.LatestVersion + 1), sequence, CancellationToken.None);
            Assert.Equal(replayed.Keys, read.Keys);
            foreach (var (number, view) in replayed)
            {
                Assert.Equal(System.Text.Json.JsonSerializer.Serialize(view), System.Text.Json.JsonSerializer.Serialize(read[number]));
                compared++;
            }
        }
        Assert.True(compared > 20, $"only {compared} version views compared");
    }

    [Fact]
    public async Task the_snapshots_written_inline_are_the_ones_a_rebuild_derives_from_the_events()
    {
        var model = await A_model_with_a_history_that_adds_and_removes_aliases_stages_and_deployments();
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var events = await session.Events.FetchStreamAsync(model);

        var derived = ModelSnapshots.Of(model, events, AppFixture.SnapshotEvery)
            .Select(s => (s.Version, s.Sequence, Json: ModelSnapshots.Serialize(StorePosition.Canonical(s.View)))).ToList();
        var written = (await Snapshots(model))
            .Select(s => (s.Version, s.Sequence, Json: ModelSnapshots.Serialize(StorePosition.Canonical(s.View)))).ToList();

        Assert.NotEmpty(written);
        Assert.Equal(derived, written);
    }

    [Fact]
    public async Task without_snapshots_the_past_is_replayed_and_reads_the_same()
    {
        var model = await A_model_with_a_history_that_adds_and_removes_aliases_stages_and_deployments();
        var sequences = await SequencesOf(model);
        var before = new List<string>();
        foreach (var sequence in sequences)
            before.Add((await Host.Get($"/api/v1/models/snap?atSequence={sequence}")).Body?.ToJsonString() ?? "");

        await using (var data = NpgsqlDataSource.Create(App.ConnectionString))
        await using (var truncate = data.CreateCommand($"truncate table {ModelSnapshots.QualifiedTable(RegistryStore.Schema)}"))
            await truncate.ExecuteNonQueryAsync();

        var after = new List<string>();
        foreach (var sequence in sequences)
            after.Add((await Host.Get($"/api/v1/models/snap?atSequence={sequence}")).Body?.ToJsonString() ?? "");
        Assert.Equal(before, after);
        await Every_sequence_answers_as_a_full_replay_does(model);
    }

    [Fact]
    public async Task a_rebuild_of_the_model_view_rewrites_lost_or_damaged_snapshots()
    {
        var model = await A_model_with_a_history_that_adds_and_removes_aliases_stages_and_deployments();
        var inline = (await Snapshots(model)).Select(s => (s.Version, s.Sequence, ModelSnapshots.Serialize(StorePosition.Canonical(s.View)))).ToList();
        await using (var data = NpgsqlDataSource.Create(App.ConnectionString))
        {
            await using var lose = data.CreateCommand($"delete from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} where version = $1");
            lose.Parameters.Add(new NpgsqlParameter { Value = (long)AppFixture.SnapshotEvery });
            Assert.Equal(1, await lose.ExecuteNonQueryAsync());
            await using var damage = data.CreateCommand(
                $"update {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} set data = jsonb_set(data, '{{latestVersion}}', '99')");
            Assert.True(await damage.ExecuteNonQueryAsync() > 0);
        }

        var started = await Host.Post("/api/v1/admin/projections/rebuild", new { projection = "ModelView" });
        Assert.True(started.Status == 202, $"{started.Status} {started.Body}");
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while ((await Host.Get("/api/v1/admin/projections")).Body!["rebuild"]!["state"]!.GetValue<string>() == "running")
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(120), "The rebuild did not finish.");
            await Task.Delay(100);
        }

        Assert.Equal(inline, (await Snapshots(model)).Select(s => (s.Version, s.Sequence, ModelSnapshots.Serialize(StorePosition.Canonical(s.View)))).ToList());
        await Every_sequence_answers_as_a_full_replay_does(model);
    }

    private async Task<List<ModelSnapshot>> Snapshots(Guid model)
    {
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        await using var command = data.CreateCommand(
            $"select version, seq_id, data::text from {ModelSnapshots.QualifiedTable(RegistryStore.Schema)} where model_id = $1 order by version");
        command.Parameters.Add(new NpgsqlParameter { Value = model });
        var rows = new List<ModelSnapshot>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(new ModelSnapshot(model, reader.GetInt64(0), reader.GetInt64(1), ModelSnapshots.Deserialize(reader.GetString(2))));
        return rows;
    }
}
