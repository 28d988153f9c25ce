using System.Text.Json.Nodes;
using EventSourcedRegistry.Api.Tests.Support;

namespace EventSourcedRegistry.Api.Tests.ModelVersions;

public sealed class when_editing_a_model_version(AppFixture app) : ApiTest(app)
{
    private async Task ChurnVersion1()
    {
        await Host.RegisterModel("churn");
        await Host.RegisterVersion("churn", extra: new
        {
            description = "first cut",
            tags = new Dictionary<string, string> { ["framework"] = "xgboost", ["owner"] = "ana" },
            metrics = new Dictionary<string, double> { ["auc"] = 0.91, ["f1"] = 0.72 },
            @params = new Dictionary<string, string> { ["max_depth"] = "6" },
            metadata = new { notebook = "train.ipynb", gpus = 2 },
        });
    }

    [Fact]
    public async Task description_tags_and_metadata_change_in_the_version_view_and_metrics_do_not()
    {
        await ChurnVersion1();

        var response = await Host.Patch("/api/v1/models/churn/versions/1", new
        {
            description = "tuned",
            setTags = new Dictionary<string, string> { ["owner"] = "bo", ["reviewed"] = "yes" },
            removeTags = new[] { "framework" },
            metadata = new { report = "s3://reports/churn-1.html" },
        }).Ok();

        Assert.Equal("\"3\"", response.ETag);
        var version = (await Host.Get("/api/v1/models/churn/versions/1").Ok()).Body!;
        Assert.Equal(response.Body!.ToJsonString(), version.ToJsonString());
        Assert.Equal("tuned", version["description"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["owner"] = "bo", ["reviewed"] = "yes" },
            version["tags"]!.AsObject().ToDictionary(t => t.Key, t => t.Value!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"report":"s3://reports/churn-1.html"}"""), version["metadata"]));
        Assert.Equal(0.91, version["metrics"]!["auc"]!.GetValue<double>());
        Assert.Equal(0.72, version["metrics"]!["f1"]!.GetValue<double>());
        Assert.Equal("6", version["params"]!["max_depth"]!.GetValue<string>());
    }

    [Fact]
    public async Task omitted_fields_stay_as_they_were()
    {
        await ChurnVersion1();

        await Host.Patch("/api/v1/models/churn/versions/1", new { setTags = new Dictionary<string, string> { ["reviewed"] = "yes" } }).Ok();

        var version = (await Host.Get("/api/v1/models/churn/versions/1").Ok()).Body!;
        Assert.Equal("first cut", version["description"]!.GetValue<string>());
        Assert.Equal("train.ipynb", version["metadata"]!["notebook"]!.GetValue<string>());
        Assert.Equal(3, version["tags"]!.AsObject().Count);
    }

    [Fact]
    public async Task a_patch_that_changes_nothing_appends_nothing()
    {
        await ChurnVersion1();

        await Host.Patch("/api/v1/models/churn/versions/1", new { setTags = new Dictionary<string, string> { ["owner"] = "ana" } }).Ok();

        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task editing_an_unknown_version_is_404_and_appends_nothing()
    {
        await ChurnVersion1();

        var response = await Host.Patch("/api/v1/models/churn/versions/2", new { description = "x" });

        Assert.Equal(404, response.Status);
        Assert.Equal(2, await Store.StreamLength("churn"));
    }

    [Fact]
    public async Task the_edit_leaves_other_versions_alone()
    {
        await ChurnVersion1();
        await Host.RegisterVersion("churn");

        await Host.Patch("/api/v1/models/churn/versions/1", new { description = "tuned" }).Ok();

        Assert.Null((await Host.Get("/api/v1/models/churn/versions/2").Ok()).Body!["description"]);
    }
}
