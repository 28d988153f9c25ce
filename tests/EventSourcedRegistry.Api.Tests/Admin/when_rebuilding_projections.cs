using System.Diagnostics;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.History;
using EventSourcedRegistry.Store;
using Npgsql;

namespace EventSourcedRegistry.Api.Tests.Admin;

public sealed class when_rebuilding_projections(AppFixture app) : ApiTest(app)
{
    private async Task Some_history()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterModel("fraud");
        for (var i = 0; i < 3; i++) await Host.RegisterVersion("churn");
        await Host.RegisterVersion("fraud");
        await Host.Promote("churn", 1, "Production");
        await Host.Promote("churn", 2, "Production", archiveExisting: true);
        await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 2 });
        await Host.Post("/api/v1/models/churn/deployments", new { version = 2, environment = "production", action = "deployed" });
        await Host.Post("/api/v1/models/fraud/rename", new { newName = "fraud-v2" });
    }

    private async Task<JsonNode> Rebuild(string? projection)
    {
        var started = await Host.Post("/api/v1/admin/projections/rebuild", projection is null ? new { } : new { projection });
        Assert.True(started.Status == 202, $"{started.Status} {started.Body}");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            var status = (await Host.Get("/api/v1/admin/projections")).Body!["rebuild"]!;
            if (status["state"]!.GetValue<string>() != "running") return status;
            await Task.Delay(100);
        }
        throw new TimeoutException("The rebuild did not finish.");
    }

    private static Dictionary<string, long> Differences(JsonNode status) =>
        status["reports"]!.AsArray().ToDictionary(r => r!["view"]!.GetValue<string>(), r => r!["differences"]!.GetValue<long>());

    [Fact]
    public async Task a_rebuild_of_a_consistent_store_finds_no_difference_and_changes_no_answer()
    {
        await Some_history();
        var before = new[] { await Host.Model("churn"), await Host.Model("fraud-v2"),
            (await Host.Get("/api/v1/models/churn/deployments")).Body!, (await Host.Get("/api/v1/models/churn/versions")).Body! };

        var status = await Rebuild(null);

        Assert.True(status["state"]!.GetValue<string>() == "succeeded", status.ToJsonString());
        Assert.All(Differences(status), d => Assert.Equal(0, d.Value));
        var after = new[] { await Host.Model("churn"), await Host.Model("fraud-v2"),
            (await Host.Get("/api/v1/models/churn/deployments")).Body!, (await Host.Get("/api/v1/models/churn/versions")).Body! };
        Assert.Equal(before.Select(b => b.ToJsonString()), after.Select(a => a.ToJsonString()));
    }

    [Fact]
    public async Task a_damaged_view_is_reported_and_repaired()
    {
        await Some_history();
        var good = (await Host.Model("churn")).ToJsonString();
        var goodHistory = (await Host.Get("/api/v1/models/churn/deployments")).Body!.ToJsonString();
        await using (var data = NpgsqlDataSource.Create(App.ConnectionString))
        {
            await using var damage = data.CreateCommand(
                $"update {RegistryStore.Schema}.mt_doc_modelview set data = jsonb_set(data, '{{latestVersion}}', '99') where data ->> 'name' = 'churn';" +
                $"delete from {RegistryStore.Schema}.mt_doc_modelversionview where data ->> 'versionNumber' = '3';" +
                $"delete from {DeploymentHistory.QualifiedTable(RegistryStore.Schema)} where kind = 'alias';");
            await damage.ExecuteNonQueryAsync();
        }

        var status = await Rebuild(null);

        var report = status.ToJsonString();
        Assert.True(status["state"]!.GetValue<string>() == "succeeded", report);
        var differences = Differences(status);
        Assert.True(differences["ModelView"] == 1, report);
        Assert.True(differences["ModelVersionView"] == 1, report);
        Assert.True(differences["DeploymentHistory"] == 1, report);
        Assert.Equal(good, (await Host.Model("churn")).ToJsonString());
        Assert.Equal(goodHistory, (await Host.Get("/api/v1/models/churn/deployments")).Body!.ToJsonString());
        Assert.Equal(200, (await Host.Get("/api/v1/models/churn/versions/3")).Status);
    }

    /// <summary>The registry at every sequence of the store, as the API answers it.</summary>
    private async Task<List<string>> Registry_at_every_sequence()
    {
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        await using var max = data.CreateCommand($"select max(seq_id) from {RegistryStore.Schema}.mt_events");
        var head = (long)(await max.ExecuteScalarAsync())!;
        Assert.True(head > 10);
        await App.WaitForHighWaterMark();
        var pages = new List<string>();
        for (var sequence = 1; sequence <= head; sequence++)
            pages.Add((await Host.Get($"/api/v1/registry?atSequence={sequence}")).Body!.ToJsonString());
        return pages;
    }

    [Fact]
    public async Task damaged_registry_states_are_reported_and_repaired_with_the_deployment_history()
    {
        await Some_history();
        var good = await Registry_at_every_sequence();
        var states = RegistryStates.QualifiedTable(RegistryStore.Schema);
        await using (var data = NpgsqlDataSource.Create(App.ConnectionString))
        {
            await using var damage = data.CreateCommand(
                $"delete from {states} where (model_id, entered_seq) in (select model_id, max(entered_seq) from {states} group by model_id);" +
                $"update {states} set state = '{RegistryState.Empty}' where entered_seq = (select min(entered_seq) from {states});");
            Assert.Equal(3, await damage.ExecuteNonQueryAsync());
        }
        Assert.NotEqual(good, await Registry_at_every_sequence());

        var status = await Rebuild("DeploymentHistory");

        var report = status.ToJsonString();
        Assert.True(status["state"]!.GetValue<string>() == "succeeded", report);
        Assert.True(Differences(status)["DeploymentHistory"] == 4, report); // two models' last rows, and one row's old and new text
        Assert.Contains("registry state", report);
        Assert.Equal(good, await Registry_at_every_sequence());
    }

    [Fact]
    public async Task a_store_written_before_registry_states_existed_gets_them_at_startup()
    {
        await Some_history();
        var good = await Registry_at_every_sequence();
        await using var data = NpgsqlDataSource.Create(App.ConnectionString);
        await using (var empty = data.CreateCommand($"truncate {RegistryStates.QualifiedTable(RegistryStore.Schema)}"))
            await empty.ExecuteNonQueryAsync();
        Assert.NotEqual(good, await Registry_at_every_sequence());

        await new EventSourcedRegistry.Api.Hosting.RegistryStatesBackfill(Store, data, new TimeTravelSettings(AppFixture.SnapshotEvery),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<EventSourcedRegistry.Api.Hosting.RegistryStatesBackfill>.Instance).StartAsync(default);

        Assert.Equal(good, await Registry_at_every_sequence());
    }

    [Fact]
    public async Task an_unknown_projection_is_a_400_and_the_status_lists_every_projection()
    {
        var response = await Host.Post("/api/v1/admin/projections/rebuild", new { projection = "Nope" });
        var status = await Host.Get("/api/v1/admin/projections");

        Assert.Equal(400, response.Status);
        var names = status.Body!["projections"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("ModelView", names);
        Assert.Contains("ModelVersionView", names);
        Assert.Contains("DeploymentHistory", names);
    }
}
