using EventSourcedRegistry.Api.Tests.Support;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Api.Tests.ModelVersions;

public sealed class when_promoting_a_model_version(AppFixture app) : ApiTest(app)
{
    /// <summary>The acceptance walk: churn with versions 1 and 2, version 1 in Production.</summary>
    private async Task ChurnWithVersion1InProduction()
    {
        await Host.RegisterModel("churn");
        Assert.Equal(1, await Host.RegisterVersion("churn"));
        Assert.Equal(2, await Host.RegisterVersion("churn", RegistryCalls.Sha256B));
        await Host.Promote("churn", 1, "Production").Ok();
    }

    [Fact]
    public async Task a_promotion_answers_the_version_view_in_its_new_stage_with_the_new_revision()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        var response = await Host.Promote("churn", 1, "Staging").Ok();

        Assert.Equal("Staging", response.Body!["stage"]!.GetValue<string>());
        Assert.Equal(1, response.Body["version"]!.GetValue<int>());
        Assert.Equal("\"3\"", response.ETag);
        Assert.Equal(3, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task archive_existing_moves_the_old_production_version_to_archived()
    {
        await ChurnWithVersion1InProduction();

        await Host.Promote("churn", 2, "Production", archiveExisting: true).Ok();

        var model = await Host.Model("churn");
        Assert.Equal([2], model["versionsByStage"]!["Production"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal([1], model["versionsByStage"]!["Archived"]!.AsArray().Select(v => v!.GetValue<int>()));
        var version1 = await Host.Get("/api/v1/models/churn/versions/1").Ok();
        Assert.Equal("Archived", version1.Body!["stage"]!.GetValue<string>());
        var version2 = await Host.Get("/api/v1/models/churn/versions/2").Ok();
        Assert.Equal("Production", version2.Body!["stage"]!.GetValue<string>());
    }

    [Fact]
    public async Task archive_existing_appends_the_promotion_and_the_archival_in_one_commit()
    {
        await ChurnWithVersion1InProduction();
        var before = await Store.StreamLength("churn");

        var response = await Host.Promote("churn", 2, "Production", archiveExisting: true).Ok();

        var events = await Store.EventsOf("churn");
        var appended = events.Skip((int)before).ToList();
        Assert.Equal(2, appended.Count);
        var promoted = Assert.IsType<ModelVersionStageTransitioned>(appended[0].Data);
        var archived = Assert.IsType<ModelVersionStageTransitioned>(appended[1].Data);
        Assert.Equal((2, "None", "Production"), (promoted.Version, promoted.FromStage, promoted.ToStage));
        Assert.Equal((1, "Production", "Archived"), (archived.Version, archived.FromStage, archived.ToStage));
        Assert.Equal($"\"{before + 2}\"", response.ETag);
        Assert.Single(appended.Select(e => e.Timestamp).Distinct());
    }

    [Fact]
    public async Task without_archive_existing_two_versions_share_production()
    {
        await ChurnWithVersion1InProduction();

        await Host.Promote("churn", 2, "Production").Ok();

        var model = await Host.Model("churn");
        Assert.Equal([1, 2], model["versionsByStage"]!["Production"]!.AsArray().Select(v => v!.GetValue<int>()));
    }

    [Fact]
    public async Task promoting_to_the_stage_it_is_in_changes_nothing_and_answers_200()
    {
        await ChurnWithVersion1InProduction();
        var before = await Store.StreamLength("churn");

        var response = await Host.Promote("churn", 1, "Production").Ok();

        Assert.Equal("Production", response.Body!["stage"]!.GetValue<string>());
        Assert.Equal(before, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task the_stage_command_reason_is_stored_and_shown_in_history()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn");

        await Host.Promote("churn", 1, "Production", reason: "AUC 0.91 on the March holdout").Ok();

        var last = (await Store.EventsOf("churn"))[^1];
        Assert.Equal("AUC 0.91 on the March holdout", last.Reason());
        Assert.Equal("AUC 0.91 on the March holdout", ((ModelVersionStageTransitioned)last.Data).Reason);
        var history = await Host.Get("/api/v1/models/churn/history").Ok();
        var entry = history.Body!["items"]!.AsArray()[^1]!;
        Assert.Equal("ModelVersionStageTransitioned", entry["type"]!.GetValue<string>());
        Assert.Equal("AUC 0.91 on the March holdout", entry["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_transition_the_lifecycle_forbids_is_409_and_appends_nothing()
    {
        await ChurnWithVersion1InProduction();
        await Host.Promote("churn", 2, "Archived").Ok();
        var before = await Store.StreamLength("churn");

        var response = await Host.Promote("churn", 2, "Production");

        Assert.Equal(409, response.Status);
        Assert.Contains("from Archived", response.Body!["detail"]!.GetValue<string>());
        Assert.Equal(before, await Store.StreamLength("churn"));
    }
}
