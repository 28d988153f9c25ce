using EventSourcedRegistry.Store;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;
using Marten;

namespace EventSourcedRegistry.Api.Tests.Rollback;

public sealed class when_rolling_back(AppFixture app) : ApiTest(app)
{
    private static int[] Versions(JsonNode? stages, string stage) =>
        stages?[stage]?.AsArray().Select(v => v!.GetValue<int>()).ToArray() ?? [];

    /// <summary>Issue 6's acceptance: v1, v2, v3 promoted over time; roll back to an instant between v1 and v2.</summary>
    private async Task<DateTimeOffset> Promote_three_versions_over_time()
    {
        await Host.RegisterModel("churn");
        for (var i = 0; i < 3; i++) await Host.RegisterVersion("churn");
        Assert.Equal(200, (await Host.Promote("churn", 1, "Production")).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 })).Status);
        var between = await App.TimestampOf(await App.LastSequence());
        Assert.Equal(200, (await Host.Promote("churn", 2, "Production", archiveExisting: true)).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 2 })).Status);
        Assert.Equal(200, (await Host.Promote("churn", 3, "Production", archiveExisting: true)).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/challenger", new { version = 3 })).Status);
        await App.WaitForHighWaterMark();
        return between;
    }

    private Task<RegistryCalls.Response> RollBack(DateTimeOffset to, bool dryRun = false, string reason = "v2 and v3 broke checkout") =>
        Host.Post("/api/v1/models/churn/rollback", new { asOf = to.ToString("O"), reason, dryRun });

    [Fact]
    public async Task production_and_aliases_return_to_the_target_and_later_versions_stay_registered_in_none()
    {
        var between = await Promote_three_versions_over_time();

        var response = await RollBack(between);

        Assert.Equal(200, response.Status);
        Assert.True(response.Body!["applied"]!.GetValue<bool>());
        var model = await Host.Model("churn");
        Assert.Equal([1], Versions(model["versionsByStage"], "Production"));
        Assert.Equal([2, 3], Versions(model["versionsByStage"], "None"));
        Assert.Equal(1, model["aliases"]!["champion"]!.GetValue<int>());
        Assert.Null(model["aliases"]!["challenger"]);
        Assert.Equal(3, model["latestVersion"]!.GetValue<int>());

        var history = (await Host.Get("/api/v1/models/churn/history")).Body!["items"]!.AsArray();
        var performed = history.Single(e => e!["type"]!.GetValue<string>() == nameof(RollbackPerformed))!;
        Assert.Equal(AppFixture.AdminActor, performed["actor"]!.GetValue<string>());
        Assert.Equal("v2 and v3 broke checkout", performed["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_dry_run_returns_the_plan_and_appends_nothing()
    {
        var between = await Promote_three_versions_over_time();
        var length = await Store.StreamLength("churn");

        var response = await RollBack(between, dryRun: true);

        Assert.Equal(200, response.Status);
        Assert.False(response.Body!["applied"]!.GetValue<bool>());
        var plan = response.Body["plan"]!.AsArray();
        Assert.Contains(plan, c => c!["kind"]!.GetValue<string>() == "stage" && c["version"]!.GetValue<int>() == 1
                                   && c["from"]!.GetValue<string>() == "Archived" && c["to"]!.GetValue<string>() == "Production");
        Assert.Contains(plan, c => c!["kind"]!.GetValue<string>() == "alias" && c["subject"]!.GetValue<string>() == "challenger" && c["to"] is null);
        Assert.Equal(length, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task the_same_rollback_again_is_a_no_op_with_an_empty_plan()
    {
        var between = await Promote_three_versions_over_time();
        Assert.Equal(200, (await RollBack(between)).Status);
        var length = await Store.StreamLength("churn");

        var again = await RollBack(between);

        Assert.Empty(again.Body!["plan"]!.AsArray());
        Assert.False(again.Body["applied"]!.GetValue<bool>());
        Assert.Equal(length, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task rolling_back_the_rollback_restores_the_state_before_it()
    {
        await Promote_three_versions_over_time();
        var before = await Host.Model("churn");
        var beforeRollback = await App.LastSequence();
        var between = await App.TimestampOf(5);
        Assert.Equal(200, (await RollBack(between)).Status);
        await App.WaitForHighWaterMark();

        var undo = await Host.Post("/api/v1/models/churn/rollback", new { atSequence = beforeRollback, reason = "the rollback was wrong" });

        Assert.Equal(200, undo.Status);
        var after = await Host.Model("churn");
        Assert.True(JsonNode.DeepEquals(before["versionsByStage"], after["versionsByStage"]), after.ToJsonString());
        Assert.True(JsonNode.DeepEquals(before["aliases"], after["aliases"]), after.ToJsonString());
    }

    [Theory]
    [InlineData("""{"asOf":"2026-03-03T14:00:00Z"}""")]
    [InlineData("""{"reason":"no point"}""")]
    [InlineData("""{"asOf":"2026-03-03T14:00:00Z","atSequence":3,"reason":"both"}""")]
    [InlineData("""{"asOf":"3 March","reason":"vague"}""")]
    public async Task a_rollback_without_a_reason_or_a_single_valid_point_is_a_400_and_appends_nothing(string body)
    {
        await Host.RegisterModel("churn");

        var response = await Host.Send(HttpMethod.Post, "/api/v1/models/churn/rollback", rawBody: body);

        Assert.Equal(400, response.Status);
        Assert.Equal(1, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task a_promotion_racing_a_rollback_leaves_either_order_never_a_mixed_state()
    {
        var between = await Promote_three_versions_over_time();

        var race = await Task.WhenAll(RollBack(between), Host.Promote("churn", 3, "Staging"));

        Assert.All(race, r => Assert.True(r.Status is 200 or 409 or 412, $"{r.Status} {r.Body}"));
        // Whatever won, the stored view is exactly the fold of the stored events: no half-applied rollback.
        await using var session = Store.QuerySession(WorkspaceId.Default.TenantId);
        var index = await session.LoadAsync<ModelNameIndex>("churn");
        var events = await session.Events.FetchStreamAsync(index!.ModelId);
        var replayed = events.Aggregate((ModelView?)null, (view, e) => ModelView.Fold(view, e.Data))!;
        var stored = await session.LoadAsync<ModelView>(index.ModelId);
        Assert.Equal(replayed.VersionsByStage.OrderBy(p => p.Key).Select(p => (p.Key, string.Join(",", p.Value))),
            stored!.VersionsByStage.OrderBy(p => p.Key).Select(p => (p.Key, string.Join(",", p.Value))));
        Assert.Equal(events.Count, stored.Revision);
        var rollbacks = events.Where(e => e.Data is RollbackPerformed).ToList();
        Assert.Single(rollbacks);
        // The rollback's compensating events follow it directly: one commit, nothing interleaved.
        var at = events.ToList().IndexOf(rollbacks[0]);
        var changes = ((RollbackPerformed)rollbacks[0].Data).Changes;
        Assert.All(events.Skip(at + 1).Take(changes), e => Assert.Equal(rollbacks[0].Timestamp, e.Timestamp));
    }
}
