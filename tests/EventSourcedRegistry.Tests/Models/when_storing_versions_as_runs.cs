using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourcedRegistry.Models;

namespace EventSourcedRegistry.Tests.Models;

/// <summary>
/// The event store's serializer writes a model view's versions by stage as runs (<see cref="VersionRuns"/>) and reads
/// them in either form; nothing else it serializes changes.
/// </summary>
public sealed class when_storing_versions_as_runs
{
    private static readonly JsonSerializerOptions Store = Stored();

    private static JsonSerializerOptions Stored()
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        VersionRuns.StoreModelViewStagesAsRuns(options);
        return options;
    }

    private static ModelView View(Dictionary<string, VersionSet> stages) =>
        new() { Id = Guid.NewGuid(), Name = "churn", NormalizedName = "churn", LatestVersion = 9, VersionsByStage = stages, Revision = 12 };

    [Fact]
    public void consecutive_versions_are_one_run_and_a_lone_version_a_number()
    {
        var view = View(new() { ["None"] = [1, 2, 3, 5, 7, 8], ["Production"] = [4], ["Archived"] = [6, 9] });

        var stored = JsonNode.Parse(JsonSerializer.Serialize(view, Store))!;

        Assert.Equal("""{"None":[[1,3],5,[7,8]],"Production":[4],"Archived":[6,9]}""", stored["versionsByStage"]!.ToJsonString());
        var read = JsonSerializer.Deserialize<ModelView>(stored.ToJsonString(), Store)!;
        Assert.Equal(view.VersionsByStage, read.VersionsByStage);
        Assert.Equal(view.Revision, read.Revision);
    }

    [Fact]
    public void thousands_of_versions_in_one_stage_store_as_one_run()
    {
        var view = View(new() { ["None"] = [.. Enumerable.Range(1, 5_000)] });

        var json = JsonSerializer.Serialize(view, Store);

        Assert.Contains("\"versionsByStage\":{\"None\":[[1,5000]]}", json);
        Assert.Equal(Enumerable.Range(1, 5_000), JsonSerializer.Deserialize<ModelView>(json, Store)!.VersionsByStage["None"]);
    }

    [Fact]
    public void a_run_is_cut_where_a_read_would_refuse_it()
    {
        var view = View(new() { ["None"] = [.. Enumerable.Range(1, VersionRuns.MaxRun + 2)] });

        var json = JsonSerializer.Serialize(view, Store);

        Assert.Contains($"\"None\":[[1,{VersionRuns.MaxRun}],[{VersionRuns.MaxRun + 1},{VersionRuns.MaxRun + 2}]]", json);
        Assert.Equal(VersionRuns.MaxRun + 2, JsonSerializer.Deserialize<ModelView>(json, Store)!.VersionsByStage["None"].Count);
    }

    [Fact]
    public void a_view_stored_before_runs_lists_every_version_and_reads_the_same()
    {
        const string before = """{"name":"churn","versionsByStage":{"None":[1,2,3,5],"Staging":[4]},"revision":6}""";

        var read = JsonSerializer.Deserialize<ModelView>(before, Store)!;

        Assert.Equal([1, 2, 3, 5], read.VersionsByStage["None"]);
        Assert.Equal([4], read.VersionsByStage["Staging"]);
    }

    [Theory]
    [InlineData("[[3,1]]")]
    [InlineData("[[0,2]]")]
    [InlineData("[[-5,2]]")]
    [InlineData("[[1]]")]
    [InlineData("[[1,2,3]]")]
    [InlineData("[[1,\"2\"]]")]
    [InlineData("[\"x\"]")]
    [InlineData("[1.5]")]
    [InlineData("[[1,99999999999]]")]
    [InlineData("[[1,2147483647]]")]
    [InlineData("[[5,10000005]]")]
    [InlineData("[[2147483640,2147483647]]")]
    [InlineData("{\"a\":1}")]
    public void a_malformed_stored_run_is_refused_not_read_as_something_else(string versions)
    {
        var stored = "{\"name\":\"churn\",\"versionsByStage\":{\"None\":" + versions + "}}";

        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<ModelView>(stored, Store));
    }

    [Fact]
    public void only_the_model_views_stages_change_and_the_wires_options_still_list_every_version()
    {
        var stages = new Dictionary<string, VersionSet> { ["None"] = [1, 2, 3] };

        Assert.Equal("""{"None":[1,2,3]}""", JsonSerializer.Serialize(stages, Store));
        Assert.Contains("\"versionsByStage\":{\"None\":[1,2,3]}", JsonSerializer.Serialize(View(stages), new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }

    [Fact]
    public void listing_a_stored_view_writes_every_version_and_leaves_the_rest()
    {
        var view = View(new() { ["None"] = [1, 2, 3, 5], ["Staging"] = [4] });
        view.Tags["team"] = "risk";
        var stored = JsonSerializer.Serialize(view, Store);

        var listed = JsonNode.Parse(VersionRuns.Listed(stored))!;

        Assert.Equal("""{"None":[1,2,3,5],"Staging":[4]}""", listed["versionsByStage"]!.ToJsonString());
        var rest = JsonNode.Parse(stored)!.AsObject();
        rest.Remove("versionsByStage");
        listed.AsObject().Remove("versionsByStage");
        Assert.True(JsonNode.DeepEquals(rest, listed), listed.ToJsonString());
    }
}
