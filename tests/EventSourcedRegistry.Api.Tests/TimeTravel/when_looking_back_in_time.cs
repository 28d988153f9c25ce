using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.TimeTravel;

// Beside the "app" collection, on a shared host of its own: one of the longest classes (docs/testing.md "CI time").
[Collection(SecondAppCollection.Name)]
public sealed class when_looking_back_in_time(AppFixture app) : ApiTest(app)
{
    /// <summary>Issue 3's acceptance walk: v1 to Production (T1), v2 with archiveExisting (T2), champion moved.</summary>
    private async Task<(long AfterV1, long AfterV2)> Promote_two_versions_and_move_champion()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");
        await Host.RegisterVersion("churn", RegistryCalls.Sha256B);
        Assert.Equal(200, (await Host.Promote("churn", 1, "Production", reason: "first model")).Status);
        var afterV1 = await App.LastSequence();
        Assert.Equal(200, (await Host.Promote("churn", 2, "Production", archiveExisting: true, reason: "better auc")).Status);
        var afterV2 = await App.LastSequence();
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 1 })).Status);
        Assert.Equal(200, (await Host.Send(HttpMethod.Put, "/api/v1/models/churn/aliases/champion", new { version = 2, reason = "new champion" })).Status);
        await App.WaitForHighWaterMark();
        return (afterV1, afterV2);
    }

    private static int[] Versions(JsonNode? stages, string stage) =>
        stages?[stage]?.AsArray().Select(v => v!.GetValue<int>()).ToArray() ?? [];

    [Fact]
    public async Task the_model_as_of_an_instant_between_the_promotions_has_the_first_version_in_production()
    {
        var (afterV1, _) = await Promote_two_versions_and_move_champion();
        var between = await App.TimestampOf(afterV1);

        var then = await Host.Get($"/api/v1/models/churn?asOf={Uri.EscapeDataString(between.ToString("O"))}");
        var now = await Host.Model("churn");

        Assert.Equal(200, then.Status);
        Assert.Equal([1], Versions(then.Body!["versionsByStage"], "Production"));
        Assert.Equal(afterV1, then.Body!["asOfSequence"]!.GetValue<long>());
        Assert.Equal([2], Versions(now["versionsByStage"], "Production"));
        Assert.Equal([1], Versions(now["versionsByStage"], "Archived"));
    }

    [Fact]
    public async Task the_registry_as_of_that_instant_lists_the_first_version_in_production()
    {
        var (afterV1, afterV2) = await Promote_two_versions_and_move_champion();
        var between = await App.TimestampOf(afterV1);

        var registry = await Host.Get($"/api/v1/registry?asOf={Uri.EscapeDataString(between.ToString("O"))}");
        var later = await Host.Get($"/api/v1/registry?atSequence={afterV2}");

        var churn = registry.Body!["items"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == "churn")!;
        Assert.Equal([1], Versions(churn["versionsByStage"], "Production"));
        Assert.Equal(afterV1, registry.Body["asOfSequence"]!.GetValue<long>());
        var churnLater = later.Body!["items"]![0]!;
        Assert.Equal([2], Versions(churnLater["versionsByStage"], "Production"));
        Assert.Equal([1], Versions(churnLater["versionsByStage"], "Archived"));
    }

    [Fact]
    public async Task the_changes_since_the_first_promotion_list_both_moves_with_actor_and_reason()
    {
        var (afterV1, _) = await Promote_two_versions_and_move_champion();

        var changes = await Host.Get($"/api/v1/registry/changes?from={afterV1 - 1}");

        var items = changes.Body!["items"]!.AsArray().Select(i => i!).ToList();
        var promotions = items.Where(i => i["type"]!.GetValue<string>() == "ModelVersionStageTransitioned").ToList();
        Assert.Equal(3, promotions.Count); // v1 → Production, v2 → Production, v1 → Archived
        Assert.Equal("first model", promotions[0]["reason"]!.GetValue<string>());
        Assert.Equal("better auc", promotions[1]["reason"]!.GetValue<string>());
        Assert.All(items, i => Assert.Equal(AppFixture.AdminActor, i["actor"]!.GetValue<string>()));
        var aliasMoves = items.Where(i => i["type"]!.GetValue<string>() == "ModelAliasAssigned").ToList();
        Assert.Equal([1, 2], aliasMoves.Select(a => a["version"]!.GetValue<int>()));
        Assert.Equal(1, aliasMoves[1]["previousVersion"]!.GetValue<int>());
        Assert.Equal("new champion", aliasMoves[1]["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task the_deployment_history_shows_both_production_intervals_with_their_actors()
    {
        var (afterV1, afterV2) = await Promote_two_versions_and_move_champion();

        var history = await Host.Get("/api/v1/models/churn/deployments?stage=Production");

        var intervals = history.Body!["items"]!.AsArray().Select(i => i!).ToList();
        Assert.Equal(2, intervals.Count);
        Assert.Equal(1, intervals[0]["version"]!.GetValue<int>());
        Assert.Equal(afterV1, intervals[0]["entered"]!["sequence"]!.GetValue<long>());
        Assert.Equal("first model", intervals[0]["entered"]!["reason"]!.GetValue<string>());
        Assert.Equal(afterV2, intervals[0]["left"]!["sequence"]!.GetValue<long>());
        Assert.Equal(2, intervals[1]["version"]!.GetValue<int>());
        Assert.Null(intervals[1]["left"]);
        Assert.All(intervals, i => Assert.Equal(AppFixture.AdminActor, i["entered"]!["actor"]!.GetValue<string>()));
    }

    [Fact]
    public async Task an_alias_resolves_to_the_version_it_named_at_that_point()
    {
        var (_, afterV2) = await Promote_two_versions_and_move_champion();

        var then = await Host.Get($"/api/v1/models/churn/aliases/champion?atSequence={afterV2 + 1}");
        var now = await Host.Get("/api/v1/models/churn/aliases/champion");
        var before = await Host.Get($"/api/v1/models/churn/aliases/champion?atSequence={afterV2}");

        Assert.Equal(1, then.Body!["version"]!.GetValue<int>());
        Assert.Equal(2, now.Body!["version"]!.GetValue<int>());
        Assert.Equal(404, before.Status);
    }

    [Fact]
    public async Task a_version_view_as_of_a_sequence_shows_the_stage_it_had_then()
    {
        var (afterV1, _) = await Promote_two_versions_and_move_champion();

        var then = await Host.Get($"/api/v1/models/churn/versions/1?atSequence={afterV1}");
        var now = await Host.Get("/api/v1/models/churn/versions/1");

        Assert.Equal("Production", then.Body!["stage"]!.GetValue<string>());
        Assert.Equal("Archived", now.Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task an_at_sequence_answer_is_identical_before_and_after_a_thousand_further_writes()
    {
        var (_, afterV2) = await Promote_two_versions_and_move_champion();
        var url = $"/api/v1/models/churn?atSequence={afterV2}";
        var registryUrl = $"/api/v1/registry?atSequence={afterV2}";
        var before = (await Host.Get(url)).Body!.ToJsonString();
        var registryBefore = (await Host.Get(registryUrl)).Body!.ToJsonString();

        for (var i = 0; i < 1000; i++)
        {
            var stage = (i % 3) switch { 0 => "Staging", 1 => "Production", _ => "None" };
            Assert.Equal(200, (await Host.Promote("churn", 2, stage)).Status);
        }
        await App.WaitForHighWaterMark();

        Assert.Equal(before, (await Host.Get(url)).Body!.ToJsonString());
        Assert.Equal(registryBefore, (await Host.Get(registryUrl)).Body!.ToJsonString());
    }

    [Fact]
    public async Task a_sequence_no_event_has_yet_is_refused_as_in_the_future_rather_than_answered()
    {
        await Host.RegisterModel("churn");
        await App.WaitForHighWaterMark();

        var response = await Host.Get($"/api/v1/models/churn?atSequence={await App.LastSequence() + 1000}");

        var problem = response.AssertProblem(409);
        Assert.Equal("In the future", problem["title"]!.GetValue<string>());
        Assert.Contains("no event has that sequence yet", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_renamed_model_is_found_by_the_name_it_had_then()
    {
        await Host.RegisterModel("churn");
        var named = await App.LastSequence();
        Assert.Equal(200, (await Host.Post("/api/v1/models/churn/rename", new { newName = "attrition" })).Status);
        await App.WaitForHighWaterMark();

        var then = await Host.Get($"/api/v1/models/churn?atSequence={named}");
        var registry = await Host.Get($"/api/v1/registry?atSequence={named}");

        Assert.Equal(200, then.Status);
        Assert.Equal("churn", then.Body!["name"]!.GetValue<string>());
        Assert.Equal("churn", registry.Body!["items"]![0]!["model"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("asOf=yesterday")]
    [InlineData("asOf=2026-03-03")]
    [InlineData("asOf=2026-03-03T14:00:00")]
    [InlineData("atSequence=-1")]
    [InlineData("atSequence=abc")]
    [InlineData("atSequence=1&asOf=2026-03-03T14:00:00Z")]
    public async Task a_malformed_point_in_time_is_a_400(string query)
    {
        await Host.RegisterModel("churn");

        var response = await Host.Get($"/api/v1/models/churn?{query}");

        Assert.Equal(400, response.Status);
        Assert.False(string.IsNullOrWhiteSpace(response.Body!["detail"]?.GetValue<string>()));
    }
}
