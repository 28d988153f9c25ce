using EventSourcedRegistry.Api.Infrastructure;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Store;
using EventSourcedRegistry.Models;
using Microsoft.Extensions.DependencyInjection;

namespace EventSourcedRegistry.Api.Tests.Concurrency;

public sealed class when_commands_race_on_one_model(AppFixture app) : ApiTest(app)
{
    [Fact]
    public async Task of_two_conflicting_promotions_with_the_same_if_match_exactly_one_succeeds()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn");
        var etag = (await Host.Get("/api/v1/models/churn")).ETag;

        var results = await Task.WhenAll(
            Host.Promote("churn", 1, "Production", archiveExisting: true, headers: Behaviour.IfMatch(etag)),
            Host.Promote("churn", 2, "Production", archiveExisting: true, headers: Behaviour.IfMatch(etag)));

        Assert.Equal([200, 412], results.Select(r => r.Status).Order());
        Assert.Equal(4, await Store.StreamLength("churn"));
        var winner = results.Single(r => r.Status == 200).Body!["version"]!.GetValue<int>();
        var model = await Host.Model("churn");
        Assert.Equal([winner], model["versionsByStage"]!["Production"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Null(model["versionsByStage"]!["Archived"]);
    }

    [Fact]
    public async Task sixteen_parallel_version_registrations_get_versions_1_to_16_without_gap_or_duplicate()
    {
        await Host.RegisterModel("churn");

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Host.RegisterVersionWith("churn")));

        Assert.All(results, r => Assert.Equal(201, r.Status));
        Assert.Equal(Enumerable.Range(1, 16), results.Select(r => r.Body!["version"]!.GetValue<int>()).Order());
        Assert.Equal(Enumerable.Range(1, 16), results.Select(r => r.Raw.Headers.Location!.ToString()).Order()
            .Select(l => int.Parse(l.Split('/')[^1])).Order());
        Assert.Equal(17, await Store.StreamLength("churn"));
        var registered = (await Store.EventsOf("churn")).Select(e => e.Data).OfType<ModelVersionRegistered>();
        Assert.Equal(Enumerable.Range(1, 16), registered.Select(e => e.Version));
        var versions = await Host.Get("/api/v1/models/churn/versions").Ok();
        Assert.Equal(Enumerable.Range(1, 16), versions.Body!["items"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal(16, (await Host.Model("churn"))["latestVersion"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_burst_of_promotions_on_one_model_all_take_effect_in_turn_and_none_runs_out_of_attempts()
    {
        await Host.RegisterModel("churn");
        for (var v = 0; v < 8; v++) await Host.RegisterVersion("churn");

        // 128 commands at once on one model: each used to lose optimistic races and decide again, and some ran out of
        // attempts (409 "Too much contention"); now they take turns on the stream's lock.
        var results = await Task.WhenAll(Enumerable.Range(0, 128).Select(i =>
            Host.Promote("churn", i % 8 + 1, (i / 8) % 2 == 0 ? "Staging" : "Production")));

        Assert.All(results, r => Assert.True(r.Status == 200, $"{r.Status} {r.Body?.ToJsonString()}"));
        var transitions = (await Store.EventsOf("churn")).Select(e => e.Data).OfType<ModelVersionStageTransitioned>().Count();
        Assert.InRange(transitions, 8, 128);
        Assert.Equal(await Store.StreamLength("churn"), (await Host.Model("churn"))["revision"]!.GetValue<long>());
    }

    [Fact]
    public async Task a_burst_on_one_model_larger_than_the_connection_pool_leaves_other_models_their_connections()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterModel("fraud");
        var turns = Host.Services.GetRequiredService<ModelCommands>().Turns;
        const int burst = 120; // more commands than the API's pool has connections (100)

        Task<RegistryCalls.Response[]> promotions;
        // The churn stream's row held by the test, as a long command would hold it: the burst cannot get past it.
        await using (await StreamLocks.Hold(App.ConnectionString, WorkspaceId.Default, await Store.ModelId("churn")))
        {
            promotions = Task.WhenAll(Enumerable.Range(0, burst).Select(i => Host.Promote("churn", 1, i % 2 == 0 ? "Staging" : "Production")));
            // Two in turn wait on the row in PostgreSQL; every other command of the burst waits in the node, without a connection.
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (turns.Waiting < burst - ModelTurns.PerModel && !promotions.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.Equal(burst - ModelTurns.PerModel, turns.Waiting);

            // So a command on another model still gets its connections while the burst waits: it answers before the row is released.
            var other = await Host.RegisterVersionWith("fraud");
            Assert.Equal(201, other.Status);
            Assert.False(promotions.IsCompleted);
        }

        var results = await promotions;
        Assert.All(results, r => Assert.True(r.Status == 200, $"{r.Status} {r.Body?.ToJsonString()}"));
        Assert.Equal(0, turns.Waiting);
        Assert.Equal(await Store.StreamLength("churn"), (await Host.Model("churn"))["revision"]!.GetValue<long>());
        Assert.Equal(2, await Store.StreamLength("fraud"));
    }

    [Fact]
    public async Task eight_pipelines_registering_and_promoting_on_one_model_all_succeed_in_one_gapless_order()
    {
        // Issue 17: eight pipelines on one model used to get 409 "Too much contention" (losers re-decided in a retry
        // storm). Commands now take turns on the stream's row lock: every one succeeds, in one order, without gaps.
        await Host.RegisterModel("churn");
        var stale = (await Host.Get("/api/v1/models/churn")).ETag;
        const int clients = 8, rounds = 3;
        // Set once any pipeline's first version is in: version 1 exists then and the model has moved past `stale`.
        var firstRegistered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<List<(int Version, RegistryCalls.Response Registered, RegistryCalls.Response Promoted)>> Pipeline(int client)
        {
            var done = new List<(int, RegistryCalls.Response, RegistryCalls.Response)>();
            for (var round = 0; round < rounds; round++)
            {
                var registered = await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey($"pipeline-{client}-{round}"));
                Assert.True(registered.Status == 201, $"{registered.Status} {registered.Body?.ToJsonString()}");
                var version = registered.Body!["version"]!.GetValue<int>();
                firstRegistered.TrySetResult();
                var promoted = await Host.Promote("churn", version, "Staging");
                Assert.True(promoted.Status == 200, $"{promoted.Status} {promoted.Body?.ToJsonString()}");
                done.Add((version, registered, promoted));
            }
            return done;
        }

        // A pinned command in the middle of the burst keeps its precondition: 412, and it appends nothing.
        // Sent once a version exists: before that, promoting version 1 would be 404 (no such version), not a stale 412.
        var pipelines = Enumerable.Range(0, clients).Select(Pipeline).ToList();
        await firstRegistered.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var pinned = await Host.Promote("churn", 1, "Production", headers: Behaviour.IfMatch(stale));
        var results = (await Task.WhenAll(pipelines)).SelectMany(r => r).ToList();

        Assert.Equal(412, pinned.Status);
        Assert.Equal(Enumerable.Range(1, clients * rounds), results.Select(r => r.Version).Order());
        var events = await Store.EventsOf("churn");
        Assert.Equal(Enumerable.Range(1, events.Count).Select(v => (long)v), events.Select(e => e.Version));
        Assert.Equal(1 + 2 * clients * rounds, events.Count);
        Assert.Equal(Enumerable.Range(1, clients * rounds), events.Select(e => e.Data).OfType<ModelVersionRegistered>().Select(e => e.Version));
        // Each version's promotion follows its registration in the stream; nothing else was appended (the 412 included).
        var transitions = events.Where(e => e.Data is ModelVersionStageTransitioned).ToList();
        Assert.Equal(clients * rounds, transitions.Count);
        Assert.All(transitions, t => Assert.True(t.Version > events.Single(e =>
            e.Data is ModelVersionRegistered r && r.Version == ((ModelVersionStageTransitioned)t.Data).Version).Version));
        Assert.All(results, r => Assert.Equal(r.Registered.Raw.Headers.ETag?.Tag, $"\"{events.Single(e =>
            e.Data is ModelVersionRegistered x && x.Version == r.Version).Version}\""));

        var model = await Host.Model("churn");
        Assert.Equal(events.Count, model["revision"]!.GetValue<long>());
        Assert.Equal(Enumerable.Range(1, clients * rounds), model["versionsByStage"]!["Staging"]!.AsArray().Select(v => v!.GetValue<int>()));
        var versions = await Host.Get("/api/v1/models/churn/versions?limit=100").Ok();
        Assert.Equal(Enumerable.Range(1, clients * rounds), versions.Body!["items"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));

        // Idempotency keys still hold under contention: a retry answers the first send's version and appends nothing.
        var retried = await Host.RegisterVersionWith("churn", Behaviour.IdempotencyKey("pipeline-5-1"));
        Assert.Equal(201, retried.Status);
        Assert.Equal(results[5 * rounds + 1].Version, retried.Body!["version"]!.GetValue<int>());
        Assert.Equal(events.Count, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_stale_if_match_is_412_and_appends_nothing()
    {
        await Host.RegisterModel("churn");
        var stale = (await Host.Get("/api/v1/models/churn")).ETag;
        await Host.RegisterVersion("churn");

        var response = await Host.Promote("churn", 1, "Staging", headers: Behaviour.IfMatch(stale));

        Assert.Equal(412, response.Status);
        Assert.Contains("revision 1", response.Body!["detail"]!.GetValue<string>());
        Assert.Equal(2, await Store.StreamLength("churn"));
        Assert.Equal(2, await Store.RegistryEvents());
    }

    [Fact]
    public async Task a_current_if_match_succeeds_and_the_response_etag_is_the_new_revision()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        var current = (await Host.Get("/api/v1/models/churn")).ETag;
        Assert.Equal("\"2\"", current);

        var response = await Host.Promote("churn", 1, "Staging", headers: Behaviour.IfMatch(current)).Ok();

        Assert.Equal("\"3\"", response.ETag);
        Assert.Equal("\"3\"", (await Host.Get("/api/v1/models/churn")).ETag);
        var next = await Host.Patch("/api/v1/models/churn", new { description = "churn model" }, Behaviour.IfMatch(response.ETag)).Ok();
        Assert.Equal("\"4\"", next.ETag);
    }

    [Fact]
    public async Task if_match_star_is_accepted()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        var response = await Host.Promote("churn", 1, "Staging", headers: Behaviour.IfMatch("*")).Ok();

        Assert.Equal("\"3\"", response.ETag);
    }

    [Fact]
    public async Task a_stale_if_match_on_a_version_registration_is_412_too()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        var response = await Host.RegisterVersionWith("churn", Behaviour.IfMatch("\"1\""));

        Assert.Equal(412, response.Status);
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task parallel_renames_of_several_models_to_one_name_leave_exactly_one_holder()
    {
        for (var i = 1; i <= 6; i++) await Host.RegisterModel($"fraud-{i}");

        var results = await Task.WhenAll(Enumerable.Range(1, 6).Select(i =>
            Host.Post($"/api/v1/models/fraud-{i}/rename", new { newName = i % 2 == 0 ? "fraud" : "FRAUD" })));

        Assert.Single(results, r => r.Status == 200);
        Assert.All(results.Where(r => r.Status != 200), r => Assert.Equal(409, r.Status));
        Assert.Equal(7, await Store.RegistryEvents());
        var holder = await Host.Model("fraud");
        Assert.Equal(5, (await Host.Get("/api/v1/models?prefix=fraud-").Ok()).Body!["items"]!.AsArray().Count);
        Assert.Equal(2, holder["revision"]!.GetValue<long>());
    }
}
