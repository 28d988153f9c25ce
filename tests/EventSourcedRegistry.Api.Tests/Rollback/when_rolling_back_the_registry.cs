using EventSourcedRegistry.Store;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.Tests.Rollback;

public sealed class when_rolling_back_the_registry(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task a_thousand_models_each_get_an_outcome_and_one_failure_does_not_stop_the_others()
    {
        const int Models = 1000;
        // Seeded straight through Marten (inline views included) to keep the test fast; then one promotion each.
        await using (var session = Store.LightweightSession(WorkspaceId.Default.TenantId))
        {
            for (var i = 0; i < Models; i++)
            {
                var id = Guid.NewGuid();
                var name = $"model-{i:D4}";
                session.Events.StartStream<ModelView>(id,
                    new ModelRegistered(id, name, null, new Dictionary<string, string>()),
                    new ModelVersionRegistered(id, 1, "None", new ArtifactReference("s3://m/a", RegistryCalls.Sha256A, null), null,
                        new Dictionary<string, string>(), new Dictionary<string, double>(), new Dictionary<string, string>(), null, null));
                session.Store(new ModelNameIndex { Id = name, ModelId = id });
            }
            await session.SaveChangesAsync();
        }
        await App.WaitForHighWaterMark();
        var target = await App.LastSequence();
        for (var i = 0; i < Models; i += 100)
            Assert.Equal(200, (await Host.Promote($"model-{i:D4}", 1, "Production")).Status);
        Assert.Equal(200, (await Host.Post("/api/v1/models/model-0500/archive", new { })).Status);
        await App.WaitForHighWaterMark();

        var accepted = await Host.Post("/api/v1/registry/rollback", new { atSequence = target, reason = "bad release train" });

        Assert.Equal(202, accepted.Status);
        var location = accepted.Header("Location")!;
        Assert.Matches("^/api/v1/registry/rollbacks/[0-9a-f-]{36}$", location);
        Assert.Equal(Models, accepted.Body!["models"]!.AsArray().Count);
        var response = await Completed(location);
        var outcomes = response.Body!["models"]!.AsArray();
        Assert.Equal(Models, outcomes.Count);
        Assert.Equal(9, response.Body["rolledBack"]!.GetValue<int>()); // model-0500's promotion cannot be undone: it is archived
        Assert.Equal(1, response.Body["failed"]!.GetValue<int>());
        Assert.Equal(Models - 10, response.Body["unchanged"]!.GetValue<int>());
        var failed = outcomes.Single(o => o!["outcome"]!.GetValue<string>() == "failed")!;
        Assert.Equal("model-0500", failed["model"]!.GetValue<string>());
        Assert.Contains("archived", failed["error"]!.GetValue<string>());
        Assert.Empty((await Host.Get("/api/v1/models?stage=Production")).Body!["items"]!.AsArray());
        Assert.Equal(0, response.Body["pending"]!.GetValue<int>());
        Assert.Equal("bad release train", response.Body["reason"]!.GetValue<string>());
    }

    /// <summary>Polls the status resource until no model is pending.</summary>
    private async Task<RegistryCalls.Response> Completed(string location)
    {
        RegistryCalls.Response status = null!;
        Assert.True(await ClusterNode.Eventually(async () =>
        {
            status = await Host.Get(location).Ok();
            return status.Body!["state"]!.GetValue<string>() == "completed";
        }, TimeSpan.FromSeconds(120)), $"still running: {status.Body?["pending"]} pending");
        return status;
    }

    [Fact]
    public async Task the_status_of_a_rollback_names_every_model_and_is_404_for_an_unknown_id()
    {
        await Host.RegisterModel("a");
        await Host.RegisterVersion("a");
        await App.WaitForHighWaterMark();
        var target = await App.LastSequence();
        await Host.Promote("a", 1, "Staging");
        await App.WaitForHighWaterMark();

        var accepted = await Host.Post("/api/v1/registry/rollback", new { atSequence = target, reason = "undo staging", models = new[] { "a", "missing" } });
        Assert.Equal(202, accepted.Status);
        var status = await Completed(accepted.Header("Location")!);

        var models = status.Body!["models"]!.AsArray();
        Assert.Equal(["a", "missing"], models.Select(m => m!["model"]!.GetValue<string>()));
        Assert.Equal(("rolledBack", "failed"), (models[0]!["outcome"]!.GetValue<string>(), models[1]!["outcome"]!.GetValue<string>()));
        Assert.Equal((1, 1, 0), (status.Body["rolledBack"]!.GetValue<int>(), status.Body["failed"]!.GetValue<int>(), status.Body["pending"]!.GetValue<int>()));
        Assert.Equal(AppFixture.AdminActor, status.Body["requestedBy"]!.GetValue<string>());

        var unknown = (await Host.Get($"/api/v1/registry/rollbacks/{Guid.NewGuid()}")).AssertProblem(404);
        var garbage = (await Host.Get("/api/v1/registry/rollbacks/..%2F..%2Fadmin")).AssertProblem(404);
        Assert.Equal(unknown["detail"]!.ToString(), garbage["detail"]!.ToString());
    }

    [Fact]
    public async Task named_models_only_and_a_dry_run_changes_nothing()
    {
        await Host.RegisterModel("a");
        await Host.RegisterModel("b");
        await Host.RegisterVersion("a");
        await Host.RegisterVersion("b");
        await App.WaitForHighWaterMark();
        var target = await App.LastSequence();
        await Host.Promote("a", 1, "Staging");
        await Host.Promote("b", 1, "Staging");
        await App.WaitForHighWaterMark();
        var events = await Store.TotalEvents();

        var dry = await Host.Post("/api/v1/registry/rollback", new { atSequence = target, reason = "preview", dryRun = true, models = new[] { "a", "missing" } });

        Assert.Equal(200, dry.Status);
        var outcomes = dry.Body!["models"]!.AsArray();
        Assert.Equal(["a", "missing"], outcomes.Select(o => o!["model"]!.GetValue<string>()));
        Assert.Equal("planned", outcomes[0]!["outcome"]!.GetValue<string>());
        Assert.Equal("failed", outcomes[1]!["outcome"]!.GetValue<string>());
        Assert.Equal(events, await Store.TotalEvents());
    }
}
