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

        var response = await Host.Post("/api/v1/registry/rollback", new { atSequence = target, reason = "bad release train" });

        Assert.Equal(200, response.Status);
        var outcomes = response.Body!["models"]!.AsArray();
        Assert.Equal(Models, outcomes.Count);
        Assert.Equal(9, response.Body["rolledBack"]!.GetValue<int>()); // model-0500's promotion cannot be undone: it is archived
        Assert.Equal(1, response.Body["failed"]!.GetValue<int>());
        Assert.Equal(Models - 10, response.Body["unchanged"]!.GetValue<int>());
        var failed = outcomes.Single(o => o!["outcome"]!.GetValue<string>() == "failed")!;
        Assert.Equal("model-0500", failed["model"]!.GetValue<string>());
        Assert.Contains("archived", failed["error"]!.GetValue<string>());
        Assert.Empty((await Host.Get("/api/v1/models?stage=Production")).Body!["items"]!.AsArray());
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
