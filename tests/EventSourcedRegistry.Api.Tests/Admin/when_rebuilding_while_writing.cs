using EventSourcedRegistry.Audit;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Rebuild;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Admin;

/// <summary>
/// A rebuild runs while the API keeps serving: a write that lands while a batch is being rebuilt is neither lost
/// nor overwritten by rebuilt data that predates it.
/// </summary>
public sealed class when_rebuilding_while_writing(AppFixture app) : ApiTest(app)
{
    private static readonly string[] All = [.. InlineViewRebuilder.Views];

    private async Task Some_history()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        for (var i = 0; i < 3; i++) await Host.RegisterVersion("churn");
        await Host.RegisterVersion("fraud");
        await Host.Promote("churn", 1, "Production");
        await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 });
    }

    private async Task<IReadOnlyList<RebuildReport>> Rebuild(NpgsqlDataSource data, Func<IReadOnlyList<Guid>, CancellationToken, Task>? beforeLock = null,
        Func<NpgsqlConnection, IReadOnlyList<Guid>, CancellationToken, Task>? afterBatch = null) =>
        await new InlineViewRebuilder(App.Store, data, WorkspaceId.Default, AppFixture.SnapshotEvery) { BeforeLock = beforeLock, AfterBatch = afterBatch }
            .RebuildAsync(All, apply: true, progress: null, CancellationToken.None);

    private static string Describe(IEnumerable<RebuildReport> reports) =>
        string.Join("; ", reports.Select(r => $"{r.View}: {r.Differences} [{string.Join(", ", r.Examples)}]"));

    [Fact]
    public async Task a_write_between_reading_and_writing_a_batch_is_kept_and_its_model_is_rebuilt_again()
    {
        await Some_history();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        // Damage the view, so that writing the fold read before the promote would be visible.
        await using (var damage = data.CreateCommand(
                         $"update {RegistryStore.Schema}.mt_doc_modelview set data = jsonb_set(data, '{{description}}', '\"damaged\"') where data ->> 'name' = 'churn'"))
            await damage.ExecuteNonQueryAsync();
        var raced = 0;

        var reports = await Rebuild(data, beforeLock: async (_, _) =>
        {
            if (Interlocked.Increment(ref raced) != 1) return;
            Assert.Equal(200, (await Host.Promote("churn", 2, "Staging")).Status);
        });

        Assert.True(raced >= 2, "the raced model was not read a second time");
        var churn = await Host.Model("churn");
        Assert.Equal("[2]", churn["versionsByStage"]!["Staging"]!.ToJsonString());
        Assert.Null(churn["description"]);
        Assert.Equal(await App.Store.StreamLength("churn"), churn["revision"]!.GetValue<long>());
        Assert.True(reports.Single(r => r.View == InlineViewRebuilder.ModelViews).Differences == 1, Describe(reports));
        var again = await Rebuild(data);
        Assert.True(again.All(r => r.Differences == 0), Describe(again));
    }

    [Fact]
    public async Task an_append_waits_for_the_batch_and_then_applies_to_the_rebuilt_view()
    {
        await Some_history();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        Task<RegistryCalls.Response>? promote = null;

        var reports = await Rebuild(data, afterBatch: async (_, _, _) =>
        {
            if (promote is not null) return;
            promote = Host.Promote("churn", 3, "Staging");
            await Task.Delay(500);
            Assert.False(promote.IsCompleted, "the append did not wait for the batch's stream-row lock");
        });

        Assert.Equal(200, (await promote!).Status);
        Assert.True(reports.All(r => r.Differences == 0), Describe(reports));
        var churn = await Host.Model("churn");
        Assert.Equal("[3]", churn["versionsByStage"]!["Staging"]!.ToJsonString());
        Assert.Equal(await App.Store.StreamLength("churn"), churn["revision"]!.GetValue<long>());
        var again = await Rebuild(data);
        Assert.True(again.All(r => r.Differences == 0), Describe(again));
    }

    [Fact]
    public async Task batches_are_written_two_at_a_time_and_every_damaged_row_of_each_is_counted_once_and_repaired()
    {
        var names = Enumerable.Range(1, 12).Select(i => $"batch-{i:00}").ToList();
        foreach (var name in names)
        {
            await Host.RegisterModel(name);
            await Host.RegisterVersion(name);
        }
        await App.Store.WaitForAuditTrail();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        // Every other model's view damaged, every third model's version view gone: each model is a batch of its own.
        var damaged = names.Where((_, i) => i % 2 == 0).ToArray();
        var versionless = names.Where((_, i) => i % 3 == 0).ToArray();
        await using (var damage = data.CreateCommand(
                         $"update {RegistryStore.Schema}.mt_doc_modelview set data = jsonb_set(data, '{{description}}', '\"damaged\"') where data ->> 'name' = any($1)"))
        {
            damage.Parameters.Add(new NpgsqlParameter { Value = damaged });
            Assert.Equal(damaged.Length, await damage.ExecuteNonQueryAsync());
        }
        await using (var remove = data.CreateCommand(
                         $"delete from {RegistryStore.Schema}.mt_doc_modelversionview v using {RegistryStore.Schema}.mt_doc_modelview m " +
                         "where v.model_id = m.id and m.data ->> 'name' = any($1)"))
        {
            remove.Parameters.Add(new NpgsqlParameter { Value = versionless });
            Assert.Equal(versionless.Length, await remove.ExecuteNonQueryAsync());
        }
        int inFlight = 0, most = 0, batches = 0;

        var reports = await new InlineViewRebuilder(App.Store, data, WorkspaceId.Default, AppFixture.SnapshotEvery)
        {
            BatchEvents = 1,
            AfterBatch = async (_, _, _) =>
            {
                var now = Interlocked.Increment(ref inFlight);
                Interlocked.Increment(ref batches);
                lock (names) most = Math.Max(most, now);
                await Task.Delay(100);
                Interlocked.Decrement(ref inFlight);
            },
        }.RebuildAsync(All, apply: true, progress: null, CancellationToken.None);

        Assert.Equal(names.Count, batches);
        Assert.Equal(2, most);
        Assert.True(reports.Single(r => r.View == InlineViewRebuilder.ModelViews).Differences == damaged.Length, Describe(reports));
        Assert.True(reports.Single(r => r.View == InlineViewRebuilder.VersionViews).Differences == versionless.Length, Describe(reports));
        Assert.All(reports, r => Assert.Equal(names.Count, r.Models));
        foreach (var name in names)
        {
            Assert.Null((await Host.Model(name))["description"]);
            Assert.Equal(200, (await Host.Get($"/api/v1/models/{name}/versions/1")).Status);
        }
        var again = await Rebuild(data);
        Assert.True(again.All(r => r.Differences == 0), Describe(again));
    }

    [Fact]
    public async Task audit_rows_are_compared_row_by_row_only_for_the_model_whose_digest_differs()
    {
        await Some_history();
        await App.Store.WaitForAuditTrail();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        InlineViewRebuilder Rebuilder() => new(App.Store, data, WorkspaceId.Default, AppFixture.SnapshotEvery);

        var consistent = Rebuilder();
        var reports = await consistent.RebuildAsync(All, apply: true, progress: null, CancellationToken.None);
        Assert.True(reports.All(r => r.Differences == 0), Describe(reports));
        Assert.Equal(0, consistent.AuditModelsCompared);

        var sequence = (await App.SqlList<long>(
            $"update {AuditTrail.AuditLogTable} set actor = 'mallory' where seq_id = (select max(seq_id) from {AuditTrail.AuditLogTable} " +
            "where model_name = 'fraud') returning seq_id")).Single();
        var damaged = Rebuilder();
        reports = await damaged.RebuildAsync(All, apply: true, progress: null, CancellationToken.None);

        Assert.Equal(1, damaged.AuditModelsCompared);
        var audit = reports.Single(r => r.View == InlineViewRebuilder.AuditLog);
        Assert.True(audit.Differences == 1 && audit.Examples.Single() == $"audit row {sequence}: differs", Describe(reports));
        Assert.Empty(await App.SqlList<long>($"select seq_id from {AuditTrail.AuditLogTable} where actor = 'mallory'"));
        var again = Rebuilder();
        Assert.True((await again.RebuildAsync(All, apply: true, progress: null, CancellationToken.None)).All(r => r.Differences == 0));
        Assert.Equal(0, again.AuditModelsCompared);
    }
}
