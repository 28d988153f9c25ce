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
